"""Tenant isolation over every URL the resolver knows: a new URL that is not listed here fails.

Each workspace URL is called as anonymous (-> login), outsider (-> 404, never 200/403),
viewer (-> 403 on writes) and editor (-> allowed, except owner-only actions).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from copywriter.documents.services import document_create
from copywriter.generation.models import Generation, Variant
from copywriter.workspaces.models import Invitation
from tests.conftest import client_for, report

PUBLIC = {
    "accounts:signup", "accounts:login", "accounts:logout", "accounts:password_reset",
    "accounts:password_reset_done", "accounts:password_reset_confirm",
    "accounts:password_reset_complete", "workspaces:accept",
    "ops:healthz", "ops:bench_trivial",
}
LOGIN_ONLY = {"accounts:password_change", "accounts:password_change_done", "workspaces:home",
              "workspaces:create", "ops:global_metrics"}
# name -> (method, role needed for that method)
WORKSPACE_URLS = {
    "workspaces:members": ("GET", "viewer"),
    "workspaces:invite": ("POST", "owner"),
    "workspaces:revoke": ("POST", "owner"),
    "workspaces:set_role": ("POST", "owner"),
    "workspaces:remove": ("POST", "owner"),
    "workspaces:leave": ("POST", "viewer"),
    "workspaces:settings": ("POST", "owner"),
    "documents:list": ("GET", "viewer"),
    "documents:create": ("POST", "editor"),
    "documents:trash": ("GET", "viewer"),
    "documents:edit": ("GET", "viewer"),
    "documents:save": ("POST", "editor"),
    "documents:history": ("GET", "viewer"),
    "documents:version": ("GET", "viewer"),
    "documents:restore": ("POST", "editor"),
    "documents:export": ("GET", "viewer"),
    "documents:trash_doc": ("POST", "editor"),
    "documents:untrash": ("POST", "editor"),
    "catalog:index": ("GET", "viewer"),
    "catalog:detail": ("POST", "editor"),
    "catalog:favourite": ("POST", "viewer"),
    "catalog:new": ("POST", "editor"),
    "catalog:edit": ("POST", "editor"),
    "catalog:delete": ("POST", "editor"),
    "generation:history": ("GET", "viewer"),
    "generation:detail": ("GET", "viewer"),
    "generation:retry": ("POST", "editor"),
    "generation:cancel": ("POST", "editor"),
    "generation:rate": ("POST", "editor"),
    "generation:save": ("POST", "editor"),
    "generation:voices": ("POST", "editor"),
    "generation:voice": ("GET", "viewer"),
    "generation:voice_cancel": ("POST", "editor"),
    "generation:voice_delete": ("POST", "editor"),
    "originality:check": ("POST", "viewer"),
    "originality:check_detail": ("GET", "viewer"),
    "originality:references": ("POST", "editor"),
    "originality:reference": ("GET", "viewer"),
    "originality:reference_delete": ("POST", "editor"),
    "originality:settings": ("POST", "owner"),
    "bulk:list": ("GET", "viewer"),
    "bulk:upload": ("POST", "editor"),
    "bulk:run": ("GET", "viewer"),
    "bulk:mapping": ("POST", "editor"),
    "bulk:pause": ("POST", "editor"),
    "bulk:resume": ("POST", "editor"),
    "bulk:cancel": ("POST", "editor"),
    "bulk:download": ("GET", "viewer"),
    "bulk:row_edit": ("POST", "editor"),
    "bulk:row_regenerate": ("POST", "editor"),
    "ops:metrics": ("GET", "owner"),
}


def all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{prefix}{p.namespace}:" if p.namespace else prefix)
            elif isinstance(p, URLPattern) and p.name:
                names.add(prefix + p.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_is_classified():
    unlisted = all_url_names() - PUBLIC - LOGIN_ONLY - set(WORKSPACE_URLS)
    assert not unlisted, f"add these URLs to the isolation matrix: {sorted(unlisted)}"
    report(f"isolation matrix: {len(all_url_names())} URL patterns, "
           f"{len(WORKSPACE_URLS)} workspace URLs x anonymous/outsider/viewer/editor")


@pytest.fixture
def objects(cast, ad_template):
    doc = document_create(membership=cast.alice_m, title="Secret plan", body="alpha")
    trashed = document_create(membership=cast.alice_m, title="Old", body="beta")
    trashed.deleted_at = trashed.created_at
    trashed.save()
    template = ad_template
    gen = Generation.objects.create(workspace=cast.ws, created_by=cast.alice, template=template,
                                    template_version=template.current, fields={}, prompt="p",
                                    tone="neutral", variants=1, status="done")
    Variant.objects.create(generation=gen, index=0, text="copy", finished=True)
    inv = Invitation.objects.create(workspace=cast.ws, email="z@example.com",
                                    expires_at=doc.created_at.replace(year=2099))
    from copywriter.generation.models import BrandVoice
    voice = BrandVoice.objects.create(workspace=cast.ws, name="House", samples=["a b c"],
                                      status="ready")
    from copywriter.catalog.services import workspace_template_save
    own = workspace_template_save(membership=cast.alice_m, data={
        **template.current.data, "id": "own-ad", "title": "Own ad"})
    from copywriter.originality.models import OriginalityCheck, ReferenceItem
    check = OriginalityCheck.objects.create(workspace=cast.ws, document=doc, document_version=1)
    ref = ReferenceItem.objects.create(workspace=cast.ws, title="Competitor page", text="gamma")
    from copywriter.bulk.services import bulk_run_create
    bulk = bulk_run_create(membership=cast.alice_m, template=template, tone="neutral",
                           file_name="ads.csv", data=b"product,benefit\nBoots,Dry feet\n")
    bulk.rows.update(status="done", result_text="Secret copy")
    return {"doc": doc, "trashed": trashed, "template": template, "gen": gen, "inv": inv,
            "voice": voice, "own_template": own, "check": check, "ref": ref, "bulk": bulk}


def url_for(name: str, ws: int, o: dict, cast) -> str:
    d, g = o["doc"].pk, o["gen"].pk
    args = {
        "workspaces:revoke": [ws, o["inv"].pk],
        "workspaces:set_role": [ws, cast.bob_m.pk],
        "workspaces:remove": [ws, cast.bob_m.pk],
        "documents:edit": [ws, d], "documents:save": [ws, d], "documents:history": [ws, d],
        "documents:version": [ws, d, 1], "documents:restore": [ws, d, 1],
        "documents:export": [ws, d, "md"], "documents:trash_doc": [ws, d],
        "documents:untrash": [ws, o["trashed"].pk],
        "catalog:detail": [ws, o["template"].pk], "catalog:favourite": [ws, o["template"].pk],
        "catalog:edit": [ws, o["own_template"].pk], "catalog:delete": [ws, o["own_template"].pk],
        "generation:detail": [ws, g], "generation:retry": [ws, g], "generation:cancel": [ws, g],
        "generation:rate": [ws, g, 0], "generation:save": [ws, g, 0],
        "generation:voice": [ws, o["voice"].pk], "generation:voice_cancel": [ws, o["voice"].pk],
        "generation:voice_delete": [ws, o["voice"].pk],
        "originality:check": [ws, d], "originality:check_detail": [ws, o["check"].pk],
        "originality:reference": [ws, o["ref"].pk],
        "originality:reference_delete": [ws, o["ref"].pk],
        "bulk:run": [ws, o["bulk"].pk], "bulk:mapping": [ws, o["bulk"].pk],
        "bulk:pause": [ws, o["bulk"].pk], "bulk:resume": [ws, o["bulk"].pk],
        "bulk:cancel": [ws, o["bulk"].pk], "bulk:download": [ws, o["bulk"].pk, "csv"],
        "bulk:row_edit": [ws, o["bulk"].pk, 1], "bulk:row_regenerate": [ws, o["bulk"].pk, 1],
    }.get(name, [ws])
    return reverse(name, args=args)


def call(client: Client, method: str, url: str):
    data = {"title": "x", "body": "y", "base_number": 1, "role": "viewer", "email": "",
            "days": 1, "name": "n", "rating": 1}
    return client.post(url, data) if method == "POST" else client.get(url)


RANK = {"viewer": 0, "editor": 1, "owner": 2}


@pytest.mark.parametrize("name", sorted(WORKSPACE_URLS))
def test_matrix(name, cast, objects):
    method, needed = WORKSPACE_URLS[name]
    url = url_for(name, cast.ws.pk, objects, cast)
    anon = call(Client(), method, url)
    assert anon.status_code == 302 and "/accounts/login/" in anon["Location"], name
    outsider = call(client_for(cast.charlie), method, url)
    assert outsider.status_code == 404, f"{name}: outsider got {outsider.status_code}"
    for user, role in ((cast.vera, "viewer"), (cast.bob, "editor")):
        response = call(client_for(user), method, url)
        if RANK[role] < RANK[needed]:
            assert response.status_code == 403, f"{name} as {role}: {response.status_code}"
        else:
            assert response.status_code not in (403, 404, 500), f"{name} as {role}: {response.status_code}"


def test_ids_of_another_workspace_are_404_inside_my_workspace(cast, objects, charlie_client):
    """Charlie uses his own workspace in the URL with Alice's object ids: nothing leaks."""
    own = cast.other.pk
    for name in ("documents:edit", "documents:history", "documents:export", "generation:detail",
                 "documents:save", "documents:restore", "generation:retry", "originality:check",
                 "originality:check_detail", "originality:reference",
                 "originality:reference_delete", "bulk:run", "bulk:download", "bulk:row_edit",
                 "bulk:cancel"):
        method = WORKSPACE_URLS[name][0]
        response = call(charlie_client, method, url_for(name, own, objects, cast))
        assert response.status_code == 404, name
    objects["doc"].refresh_from_db()
    assert objects["doc"].body == "alpha" and objects["doc"].versions.count() == 1
    assert Generation.objects.filter(workspace=cast.other).count() == 0


def test_search_results_never_include_another_workspace(cast, objects, charlie_client):
    document_create(membership=cast.charlie_m, title="Charlie notes", body="alpha too")
    html = charlie_client.get(reverse("documents:list", args=[cast.other.pk]), {"q": "alpha"}).content.decode()
    assert "Charlie notes" in html and "Secret plan" not in html
    html = charlie_client.get(reverse("generation:history", args=[cast.other.pk]), {"q": "copy"}).content.decode()
    assert "Nothing generated" in html or "No generation matches" in html
