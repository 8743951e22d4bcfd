import time

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Convert the packaged GGUF model into the safetensors cache (once; ~45 s), and merge "
            "the task adapter (adapters/task/, when there is one) into a copy of it that the "
            "worker serves; merged again only when the adapter changed.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="convert and merge again")

    def handle(self, *args: object, force: bool = False, **opts: object) -> None:
        from copywriter.ml.model import convert_gguf, merge_task_adapter
        from copywriter.ml.paths import task_adapter_dir

        started = time.monotonic()
        path = convert_gguf(force=force)
        self.stdout.write(f"model cache ready at {path} ({time.monotonic() - started:.1f}s)")
        started = time.monotonic()
        try:
            merged, fresh = merge_task_adapter(base=path, force=force)
        except (ValueError, OSError) as exc:
            raise CommandError(f"could not merge the task adapter {task_adapter_dir()}: {exc}") from None
        if merged is None:
            self.stdout.write(f"no task adapter at {task_adapter_dir()}: the base is served")
        elif fresh:
            self.stdout.write(f"task adapter merged into {merged} "
                              f"({time.monotonic() - started:.1f}s)")
        else:
            self.stdout.write(f"task adapter unchanged: {merged} is current")
