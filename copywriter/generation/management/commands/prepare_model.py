import time

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Convert the base model's GGUF (the packaged one unless COPYWRITER_BASE_MODEL names "
            "another) into the safetensors cache (once; ~45 s for the packaged one), and merge "
            "the base's task adapter (adapters/task/, when there is one) into a copy of it that "
            "the worker serves; merged again only when the adapter changed.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="convert and merge again")

    def handle(self, *args: object, force: bool = False, **opts: object) -> None:
        from copywriter.ml.model import base_id, base_model_dir, merge_task_adapter
        from copywriter.ml.paths import BaseModelError, adapter_base, task_adapter_dir

        started = time.monotonic()
        try:
            path = base_model_dir(force=force)
            base = base_id()
        except BaseModelError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"model cache ready at {path} ({time.monotonic() - started:.1f}s)")
        started = time.monotonic()
        adapter = task_adapter_dir(base)
        try:
            merged, fresh = merge_task_adapter(base=path, force=force)
        except (ValueError, OSError) as exc:
            raise CommandError(f"could not merge the task adapter {adapter}: {exc}") from None
        if merged is None and (adapter / "adapter_model.safetensors").exists():
            self.stdout.write(f"the task adapter at {adapter} was trained on the base "
                              f"{adapter_base(adapter)!r}, not on {base!r}: the base is served")
        elif merged is None:
            self.stdout.write(f"no task adapter at {adapter}: the base is served")
        elif fresh:
            self.stdout.write(f"task adapter merged into {merged} "
                              f"({time.monotonic() - started:.1f}s)")
        else:
            self.stdout.write(f"task adapter unchanged: {merged} is current")
