"""A workspace's house style rules: one row per workspace (no row: the defaults, which check
only the generic issues proselint finds)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.workspaces.models import Workspace


class Spelling(models.TextChoices):
    ANY = "", "Either (not checked)"
    US = "en-US", "American (en-US)"
    GB = "en-GB", "British (en-GB)"


class OxfordComma(models.TextChoices):
    ANY = "", "Either (not checked)"
    ALWAYS = "always", "Always (red, white, and blue)"
    NEVER = "never", "Never (red, white and blue)"


class HeadlineCase(models.TextChoices):
    ANY = "", "Either (not checked)"
    TITLE = "title", "Title Case for Headings"
    SENTENCE = "sentence", "Sentence case for headings"


class Numbers(models.TextChoices):
    ANY = "", "Either (not checked)"
    NUMERALS = "numerals", "Numerals (3 colours)"
    WORDS = "words", "Words under ten (three colours, 12 sizes)"


class Exclamations(models.TextChoices):
    ANY = "any", "Any number"
    ONE = "one", "At most one per text"
    NONE = "none", "None"


class StyleRules(models.Model):
    """``banned``: [{"term", "reason"}]; ``preferred``: [{"use", "instead_of"}];
    ``disclaimers``: [{"category", "text"}] (a catalog category). Cleaned by
    ``services.clean_rules`` before they are stored."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="style_rules")
    banned = models.JSONField(default=list, blank=True)
    preferred = models.JSONField(default=list, blank=True)
    spelling = models.CharField(max_length=5, choices=Spelling.choices, default=Spelling.ANY,
                                blank=True)
    oxford_comma = models.CharField(max_length=6, choices=OxfordComma.choices,
                                    default=OxfordComma.ANY, blank=True)
    headline_case = models.CharField(max_length=8, choices=HeadlineCase.choices,
                                     default=HeadlineCase.ANY, blank=True)
    numbers = models.CharField(max_length=8, choices=Numbers.choices, default=Numbers.ANY,
                               blank=True)
    exclamations = models.CharField(max_length=4, choices=Exclamations.choices,
                                    default=Exclamations.ANY)
    max_grade = models.PositiveSmallIntegerField(null=True, blank=True)  # Flesch-Kincaid grade
    disclaimers = models.JSONField(default=list, blank=True)
    generic = models.BooleanField(default=True)  # proselint's checks (cliches, redundancy, ...)
    # A generated variant with a banned term is written again at most this many times, then
    # stored and shown flagged.
    max_rewrites = models.PositiveSmallIntegerField(default=2)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"house style of {self.workspace}"
