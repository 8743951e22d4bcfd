"""One shared cast: alice owns the workspace, bob edits, vera views, charlie is an outsider
with a workspace of his own.

Tests mirror the apps: tests/<app>/test_<thing>.py. Those that sweep every app at once live in
tests/security (every URL, every form, hostile input, limits) and tests/platform (the processes:
deploy files, the web tier, real workers, the browser journey); tests/test_layers.py reads the
code, not an app. Fixtures shared across folders are here or in the tests/fixtures plugins below;
plain helpers are in tests/support. A test module never imports another."""

from __future__ import annotations

import os

import pytest

from tests.support.cast import PASSWORD, client_for
from tests.support.report import summary
from tests.support.templates import builtin_template

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest_plugins = ["tests.fixtures.engines", "tests.fixtures.isolation", "tests.fixtures.originality",
                  "tests.fixtures.webhooks"]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = summary()
    if lines:
        terminalreporter.section("what was covered")
        for line in lines:
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
    # The worker's mechanics are tested one candidate a variant (scripted engines write the
    # same text for each, random-weight ones are compared with a lone generate()); a new
    # workspace's best of 3 has tests of its own (tests/claims, tests/generation/test_slots.py).
    ws.candidates = 1
    ws.save()
    Membership.objects.create(workspace=ws, user=bob, role=Role.EDITOR)
    Membership.objects.create(workspace=ws, user=vera, role=Role.VIEWER)
    other = Workspace.objects.get(memberships__user=charlie)
    other.candidates = 1
    other.save(update_fields=["candidates"])

    class Cast:
        pass

    c = Cast()
    c.alice, c.bob, c.vera, c.charlie, c.ws, c.other = alice, bob, vera, charlie, ws, other
    c.alice_m = Membership.objects.get(workspace=ws, user=alice)
    c.bob_m = Membership.objects.get(workspace=ws, user=bob)
    c.vera_m = Membership.objects.get(workspace=ws, user=vera)
    c.charlie_m = Membership.objects.get(workspace=other, user=charlie)
    return c


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


@pytest.fixture
def ad_template(db):
    """The Google search ad."""
    return builtin_template("ads/google-search-ad.yaml")


@pytest.fixture
def product_template(db):
    """The e-commerce product description, the template of the bulk catalogues."""
    return builtin_template("ecommerce/ecommerce-product-description.yaml")


@pytest.fixture
def sent(monkeypatch):
    """Every job the web side would hand to Celery; nothing reaches a broker."""
    jobs: list[int] = []
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: jobs.append(gen.pk))
    return jobs


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
