"""Reading a folder of .txt / .md files for ``import_corpus`` and ``check_originality``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from copywriter.originality.services import REFERENCE_EXTENSIONS, OriginalityError, decode_upload


@dataclass(frozen=True)
class TextFile:
    path: Path
    name: str  # relative to the folder, with forward slashes
    text: str


def title_of(name: str, text: str) -> str:
    """A Markdown file's first heading, else its name."""
    for line in text.splitlines()[:20]:
        if line.startswith("# ") and line[2:].strip():
            return line[2:].strip()[:200]
    return name[:200]


def read_folder(folder: Path) -> tuple[list[TextFile], list[str]]:
    """(readable text files, a message for each file that was skipped), in name order."""
    if not folder.exists():
        raise OriginalityError(f"{folder} does not exist.")
    if not folder.is_dir():
        raise OriginalityError(f"{folder} is not a folder.")
    files: list[TextFile] = []
    skipped: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue  # .git, .DS_Store and friends
        if path.suffix.lower() not in REFERENCE_EXTENSIONS:
            skipped.append(f"{name}: skipped, not a .txt or .md file")
            continue
        try:
            files.append(TextFile(path, name, read_file(path, name)))
        except OriginalityError as exc:
            skipped.append(f"{name}: skipped, {exc.message}")
    return files, skipped


def read_file(path: Path, name: str | None = None) -> str:
    name = name or str(path)
    if not path.exists():
        raise OriginalityError(f"{name} does not exist.")
    if not path.is_file():
        raise OriginalityError(f"{name} is not a file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OriginalityError(f"{name} cannot be read: {exc.strerror}.") from None
    return decode_upload(name, data)
