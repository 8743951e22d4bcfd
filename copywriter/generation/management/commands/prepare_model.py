import time

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Convert the packaged GGUF model into the safetensors cache (once; ~45 s)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true")

    def handle(self, *args: object, force: bool = False, **opts: object) -> None:
        from copywriter.ml.model import convert_gguf

        started = time.monotonic()
        path = convert_gguf(force=force)
        self.stdout.write(f"model cache ready at {path} ({time.monotonic() - started:.1f}s)")
