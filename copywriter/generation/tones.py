"""The built-in tones. Import-light: the web process lists tones without torch."""

from __future__ import annotations

NEUTRAL = "neutral"
TONES: dict[str, str] = {
    NEUTRAL: "The base model, no adapter",
    "professional": "Polished, precise, confident",
    "friendly": "Warm and conversational",
    "witty": "Playful, clever wordplay",
    "persuasive": "Benefit-led, strong call to action",
    "luxurious": "Elegant, sensory, unhurried",
    "bold": "Short, punchy, confident",
    "empathetic": "Understanding and reassuring",
    "informative": "Factual and clear",
}
TRAINED_TONES = [t for t in TONES if t != NEUTRAL]
VOICE_PREFIX = "voice-"

LENGTHS: dict[str, int] = {"short": 120, "medium": 250, "long": 400}


def is_voice(tone: str) -> bool:
    return tone.startswith(VOICE_PREFIX)


def tone_line(tone: str) -> str:
    """The tone asked for in the prompt (its name and description), for a tone that has no
    adapter trained on the base model served (``runner.adapter_for``)."""
    return f"Write it in a {tone} tone: {TONES[tone].lower()}."
