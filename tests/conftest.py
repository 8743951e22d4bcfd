"""One shared cast: alice owns the workspace, bob edits, vera views, charlie is an outsider
with a workspace of his own."""

from __future__ import annotations

import os

import pytest
from django.test import Client

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PASSWORD = "correct horse battery staple 42"
REPORT: list[str] = []


def report(line: str) -> None:
    """A figure the run should show (counts of what was covered), printed in the summary."""
    REPORT.append(line)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if REPORT:
        terminalreporter.section("what was covered")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    from copywriter.core import pagecache

    cache.clear()
    pagecache.clear()
    yield


@pytest.fixture
def cast(db):
    from copywriter.accounts.services import user_create
    from copywriter.workspaces.models import Membership, Role, Workspace

    alice = user_create(email="alice@example.com", password=PASSWORD, name="Alice")
    bob = user_create(email="bob@example.com", password=PASSWORD, name="Bob")
    vera = user_create(email="vera@example.com", password=PASSWORD, name="Vera")
    charlie = user_create(email="charlie@example.com", password=PASSWORD, name="Charlie")
    ws = Workspace.objects.get(memberships__user=alice)
    ws.name = "Acme marketing"
    ws.save()
    Membership.objects.create(workspace=ws, user=bob, role=Role.EDITOR)
    Membership.objects.create(workspace=ws, user=vera, role=Role.VIEWER)
    other = Workspace.objects.get(memberships__user=charlie)

    class Cast:
        pass

    c = Cast()
    c.alice, c.bob, c.vera, c.charlie, c.ws, c.other = alice, bob, vera, charlie, ws, other
    c.alice_m = Membership.objects.get(workspace=ws, user=alice)
    c.bob_m = Membership.objects.get(workspace=ws, user=bob)
    c.vera_m = Membership.objects.get(workspace=ws, user=vera)
    c.charlie_m = Membership.objects.get(workspace=other, user=charlie)
    return c


def client_for(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(cast):
    return client_for(cast.alice)


@pytest.fixture
def bob_client(cast):
    return client_for(cast.bob)


@pytest.fixture
def vera_client(cast):
    return client_for(cast.vera)


@pytest.fixture
def charlie_client(cast):
    return client_for(cast.charlie)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A 2-layer random-weight model with the real architecture family and tokenizer."""
    from copywriter.ml.model import tiny_random_model

    return tiny_random_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def builtin_templates(db):
    from django.conf import settings

    from copywriter.catalog.services import templates_sync

    report = templates_sync(root=settings.TEMPLATES_LIB_DIR)
    assert not report.invalid
    return report


def builtin_template(path: str):
    """One built-in template (``category/id.yaml`` under templates_lib), stored without syncing
    the whole library."""
    from django.conf import settings

    from copywriter.catalog.models import Template
    from copywriter.catalog.schema import load_file
    from copywriter.catalog.services import _upsert

    spec = load_file(settings.TEMPLATES_LIB_DIR / path)
    tpl = Template.objects.create(slug=spec.id)
    _upsert(tpl, spec)
    return tpl


@pytest.fixture
def ad_template(db):
    """The Google search ad."""
    return builtin_template("ads/google-search-ad.yaml")


@pytest.fixture
def sent(monkeypatch):
    """Every job the web side would hand to Celery; nothing reaches a broker."""
    jobs: list[int] = []
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: jobs.append(gen.pk))
    return jobs


class GenerateOnlyEngine:
    """For test engines that script ``generate`` only: the worker pipeline runs an engine
    *session*; here each session step writes every queued row to the end in one ``generate``
    call (so a rewrite round is one call, as the scripted texts expect)."""

    def session(self, *, system=None):
        engine = self

        class Session:
            live = 0

            def __init__(self):
                self.waiting: list = []

            @property
            def pending(self) -> int:
                return len(self.waiting)

            def add(self, requests):
                self.waiting += requests

            def step(self):
                requests, self.waiting = self.waiting, []
                return list(engine.generate(requests)) if requests else []

            def partial(self):
                return []

            def cancel(self, keys):
                self.waiting = [r for r in self.waiting if r.key not in keys]

        return Session()


def run_worker(*, engine, first_id=None, static=None):
    """The worker path in this process until the queue is empty (copywriter.pipeline.local)."""
    from copywriter.pipeline.local import run_queued

    return run_queued(engine=engine, first_id=first_id, me="host:1", static=static)


@pytest.fixture
def queued_job(cast, ad_template, sent):
    """queued_job(membership, *, bulk=False, variants=1, tokens=None): a queued Google search ad
    job (a bulk run's row when ``bulk``), created one second after the one before, so that
    arrival order is exact."""
    from datetime import timedelta

    from django.utils import timezone

    from copywriter.bulk.models import BulkRow, BulkRun
    from copywriter.generation.models import Generation
    from copywriter.generation.services import generation_create

    clock = [timezone.now() - timedelta(hours=1)]

    def make(membership, *, bulk: bool = False, variants: int = 1, tokens: int | None = None):
        gen = generation_create(membership=membership, template=ad_template, tone="neutral",
                                fields={"product": "Fernway hiking boots",
                                        "benefit": "Waterproof leather, free returns"},
                                variants=variants, per_minute_limit=False)
        clock[0] += timedelta(seconds=1)
        changes: dict = {"created_at": clock[0]}
        if tokens is not None:
            changes["max_new_tokens"] = tokens
        Generation.objects.filter(pk=gen.pk).update(**changes)
        if bulk:
            run = BulkRun.objects.create(workspace_id=membership.workspace_id, template=ad_template,
                                         template_version_id=ad_template.current_id, tone="neutral",
                                         file_name="rows.csv", file_format="csv")
            BulkRow.objects.create(run=run, index=1, generation=gen)
        return Generation.objects.get(pk=gen.pk)

    return make


def random_adapter(model_dir, out, seed):
    """A peft LoRA adapter with random weights (scaled up so it matters at the tiny model's
    scale) on every projection, saved to ``out``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                                                        "gate_proj", "up_proj", "down_proj"],
                     init_lora_weights=False, task_type="CAUSAL_LM")
    peft_model = get_peft_model(base, cfg)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_" in name:
                p.mul_(3.0)
    peft_model.save_pretrained(out)
    return out
