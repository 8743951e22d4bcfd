from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.originality import text as T
from copywriter.originality.files import read_file, read_folder, title_of
from copywriter.originality.services import OriginalityError


def _plain(match: dict[str, Any]) -> dict[str, Any]:
    """Spans as text plus the runs copied word for word (instead of the page's segments)."""
    out = dict(match)
    for side in ("text_span", "source_span"):
        span = dict(out[side])
        segments = span.pop("segments", [])
        span["text"] = "".join(s for s, _ in segments)
        span["copied"] = [s.strip() for s, shared in segments if shared]
        span.pop("before", None)
        span.pop("after", None)
        out[side] = span
    return out


class Command(BaseCommand):
    help = ("Check files against a folder of .txt/.md files, without the database: embeds the "
            "folder in memory and prints one JSON report per file (one per line).")
    requires_system_checks: list[str] = []  # type: ignore[assignment]
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="the .txt or .md files to check")
        parser.add_argument("--corpus", required=True, metavar="DIR",
                            help="folder of .txt/.md files to compare against (searched recursively)")
        parser.add_argument("--paraphrase-threshold", type=float, default=T.Thresholds.paraphrase)
        parser.add_argument("--copy-threshold", type=float, default=T.Thresholds.copy_overlap)
        parser.add_argument("--brief", metavar="FILE", default=None,
                            help="the brief or fields the files were written from: what they share "
                                 "with it is not evidence of copying (the product passes a "
                                 "generation's fields the same way)")
        parser.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")

    def handle(self, *args: Any, files: list[str], corpus: str, paraphrase_threshold: float,
               copy_threshold: float, indent: int | None, brief: str | None = None,
               **opts: Any) -> None:
        thresholds = T.Thresholds(paraphrase=paraphrase_threshold, copy_overlap=copy_threshold)
        errors = thresholds.validate()
        if errors:
            raise CommandError(" ".join(errors))
        given = ""
        if brief:
            try:
                given = read_file(Path(brief), brief)
            except OriginalityError as exc:
                raise CommandError(f"--brief: {exc.message}") from None
        folder = Path(corpus)
        try:
            sources, skipped = read_folder(folder)
        except OriginalityError as exc:
            raise CommandError(f"--corpus: {exc.message}") from None
        for message in skipped:
            self.stderr.write(message)
        if not sources:
            raise CommandError(f"--corpus: no readable .txt or .md files in {folder}.")

        from copywriter.ml.embeddings import embed
        from copywriter.originality.memory import Corpus
        from copywriter.originality.report import Source

        built = Corpus.build([Source(f"file:{f.path.resolve()}",
                                     {"kind": "file", "path": f.name,
                                      "title": title_of(f.name, f.text)}, f.text)
                              for f in sources], embed)
        failed = 0
        for name in files:
            path = Path(name)
            try:
                text = read_file(path, name)
            except OriginalityError as exc:
                failed += 1
                self.stdout.write(json.dumps({"file": name, "error": exc.message}, indent=indent))
                continue
            # A file inside the corpus is not compared with itself.
            report = built.check(text, embed, thresholds, exclude={f"file:{path.resolve()}"},
                                 given=given)
            report["matches"] = [_plain(m) for m in report["matches"]]
            report["match"] = _plain(report["match"]) if report["match"] else None
            out = {"file": name, **report, "corpus_files": len(sources),
                   "corpus_passages": len(built.passages)}
            self.stdout.write(json.dumps(out, indent=indent, ensure_ascii=False))
        if failed:
            raise CommandError(f"{failed} of {len(files)} files could not be checked (see above).")
