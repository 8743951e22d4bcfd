"""backup/restore round-trips documents and every version byte for byte, into an empty database,
and restoring twice adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from copywriter.accounts.models import User
from copywriter.documents.models import Document, DocumentVersion
from copywriter.documents.services import document_create, document_save, document_trash
from copywriter.workspaces.models import Membership, Workspace
from tests.support.report import report

TEXTS = ["Plain copy.", "Ünïcödé — “quotes” 日本語 \U0001f600\n\nsecond paragraph\r\n",
         "<script>alert(1)</script> & {{ x }}", "  leading and trailing spaces  ", "x" * 20_000]


def snapshot() -> dict:
    docs = {}
    for d in Document.objects.select_related("workspace", "created_by").order_by("created_at"):
        key = (d.workspace.name, d.created_at.isoformat(), d.created_by.email if d.created_by else None)
        docs[key] = {
            "doc": (d.title.encode(), d.body.encode(), d.head_number, d.updated_at.isoformat(),
                    d.deleted_at.isoformat() if d.deleted_at else None),
            "versions": [(v.number, v.based_on, v.kind, v.title.encode(), v.body.encode(),
                          v.author.email if v.author else None, v.created_at.isoformat())
                         for v in DocumentVersion.objects.filter(document=d).order_by("number")]}
    members = sorted((m.workspace.name, m.user.email, m.role)
                     for m in Membership.objects.select_related("workspace", "user"))
    from copywriter.catalog.models import Template
    from copywriter.originality.models import ReferenceItem
    from copywriter.voices.models import BrandVoice

    templates = sorted(
        (t.workspace.name, t.slug, t.is_active, t.title, t.created_at.isoformat(),
         t.created_by.email if t.created_by else None, t.current.content_hash,
         [(v.content_hash, v.data) for v in t.versions.order_by("created_at")])
        for t in Template.objects.filter(workspace__isnull=False).select_related("workspace"))
    voices = sorted((v.workspace.name, v.name, v.samples, v.created_at.isoformat())
                    for v in BrandVoice.objects.select_related("workspace"))
    refs = sorted((r.workspace.name, r.title, r.text, r.source_name, r.created_at.isoformat())
                  for r in ReferenceItem.objects.filter(workspace__isnull=False)
                  .select_related("workspace"))
    return {"docs": docs, "members": members, "templates": templates, "voices": voices,
            "refs": refs}


@pytest.fixture
def content(cast, ad_template):
    from copywriter.catalog.services import template_delete, workspace_template_save
    from copywriter.originality.models import ReferenceItem
    from copywriter.seo.models import KeywordList
    from copywriter.voices.models import BrandVoice

    data = {**ad_template.current.data, "id": "spring-ad", "title": "Spring ad"}
    mine = workspace_template_save(membership=cast.alice_m, data=data)
    workspace_template_save(membership=cast.bob_m, template=mine,
                            data={**data, "title": "Spring ad, edited — 日本"})
    gone = workspace_template_save(membership=cast.alice_m, data={**data, "id": "old-ad"})
    template_delete(membership=cast.alice_m, template=gone)
    BrandVoice.objects.create(workspace=cast.ws, name="Fernway voice", created_by=cast.alice,
                              samples=[f"Sample {i}: boots for wet “trails”." for i in range(22)],
                              status="ready", adapter_path="/somewhere/voice-1")
    ReferenceItem.objects.create(workspace=cast.ws, title="Competitor page", created_by=cast.bob,
                                 text=TEXTS[1], source_name="competitor.txt")

    for i, text in enumerate(TEXTS):
        doc = document_create(membership=cast.alice_m, title=f"Doc {i} {text[:30]}", body=text)
        document_save(membership=cast.bob_m, document_id=doc.pk, title=doc.title,
                      body=text + " edited", base_number=1)
        document_save(membership=cast.alice_m, document_id=doc.pk, title=doc.title,
                      body=text + " stale", base_number=1)  # kept as a conflict copy
    document_trash(membership=cast.alice_m, document_id=doc.pk)
    document_create(membership=cast.charlie_m, title="Charlie's", body="other workspace")
    KeywordList.objects.create(workspace=cast.ws, name="Boots", keywords=["boots", "dry feet"])


@pytest.mark.parametrize("name", ["backup.json", "backup.json.gz"])
def test_round_trip_into_an_empty_database_and_twice_adds_nothing(cast, content, tmp_path, name):
    from copywriter.seo.models import KeywordList

    before = snapshot()
    assert DocumentVersion.objects.filter(kind="conflict").count() == len(TEXTS)
    path = tmp_path / name
    out = StringIO()
    call_command("backup", str(path), stdout=out)
    assert "6 documents, 16 versions" in out.getvalue()
    # An empty database: every workspace, document, version, list and user gone.
    Workspace.objects.all().delete()
    User.objects.all().delete()
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()
    out = StringIO()
    call_command("restore", str(path), stdout=out)
    assert "documents: 6 added" in out.getvalue()
    after = snapshot()
    assert after == before  # every title, body and version byte for byte, with authors and times
    assert len(after["templates"]) == 2 and len(after["templates"][1][-1]) == 2  # both versions
    from copywriter.voices.models import BrandVoice

    assert BrandVoice.objects.get().status == "draft"  # to train again: adapters are not kept
    assert "reindex_originality" in out.getvalue() and "train them again" in out.getvalue()
    assert list(KeywordList.objects.values_list("name", "keywords")) == [("Boots", ["boots", "dry feet"])]
    from copywriter.catalog.models import TemplateVersion

    def counts_now():
        return (Workspace.objects.count(), Membership.objects.count(), Document.objects.count(),
                DocumentVersion.objects.count(), User.objects.count(), KeywordList.objects.count(),
                TemplateVersion.objects.count(), BrandVoice.objects.count())

    counts = counts_now()
    out = StringIO()
    call_command("restore", str(path), stdout=out)
    assert "documents: 0 added, 6 already there" in out.getvalue()
    assert counts_now() == counts
    assert snapshot() == before
    restored = User.objects.get(email="bob@example.com")
    assert not restored.has_usable_password()
    report(f"backup/restore ({name}): 6 documents, 16 versions byte for byte; a second restore "
           "added nothing")


def test_restore_into_the_same_database_adds_only_missing_versions(cast, content, tmp_path):
    path = tmp_path / "b.json"
    call_command("backup", str(path), "--workspace", str(cast.ws.pk), stdout=StringIO())
    doc = Document.objects.filter(workspace=cast.ws, deleted_at__isnull=True).first()
    DocumentVersion.objects.filter(document=doc, number=3).delete()  # a lost conflict copy
    document_save(membership=cast.bob_m, document_id=doc.pk, title=doc.title, body="newer",
                  base_number=2)  # the live document moved on meanwhile (version 3 again)
    call_command("restore", str(path), stdout=StringIO())
    doc.refresh_from_db()
    assert doc.body == "newer"  # the newer live text is not overwritten by the older backup
    assert DocumentVersion.objects.filter(document=doc).count() == 3


def test_scoped_backup_holds_only_that_workspace(cast, content, tmp_path):
    import json

    path = tmp_path / "b.json"
    call_command("backup", str(path), "--workspace", str(cast.other.pk), stdout=StringIO())
    data = json.loads(path.read_text())
    assert [d["title"] for d in data["documents"]] == ["Charlie's"]
    assert {u["email"] for u in data["users"]} == {"charlie@example.com"}


def test_bad_backup_files_get_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore", str(tmp_path / "nope.json"))
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(CommandError, match="not a readable backup"):
        call_command("restore", str(tmp_path / "x.json"))
    (tmp_path / "y.json").write_text('{"format": "something else"}')
    with pytest.raises(CommandError, match="not a copywriter backup"):
        call_command("restore", str(tmp_path / "y.json"))
    (tmp_path / "z.json").write_text('{"format": "copywriter-backup", "version": 1, "users": [], '
                                     '"workspaces": [{"key": "k"}], "documents": []}')
    with pytest.raises(CommandError, match="damaged"):
        call_command("restore", str(tmp_path / "z.json"))
    with pytest.raises(CommandError, match="No workspace with id 999999"):
        call_command("backup", str(tmp_path / "o.json"), "--workspace", "999999")


def test_a_restored_template_never_takes_the_id_of_a_live_one(cast, content, tmp_path, ad_template):
    from copywriter.catalog.models import Template
    from copywriter.catalog.services import workspace_template_save

    path = tmp_path / "b.json"
    call_command("backup", str(path), stdout=StringIO())
    Template.objects.filter(workspace=cast.ws, slug="spring-ad").delete()  # lost
    live = workspace_template_save(membership=cast.alice_m, data={
        **ad_template.current.data, "id": "spring-ad", "title": "A new spring ad"})
    out = StringIO()
    call_command("restore", str(path), stdout=out)
    assert "templates: 1 added, 1 already there" in out.getvalue()
    live.refresh_from_db()
    assert (live.slug, live.title) == ("spring-ad", "A new spring ad")
    restored = Template.objects.get(workspace=cast.ws, slug="spring-ad-restored")
    assert restored.title == "Spring ad, edited \u2014 \u65e5\u672c" and restored.versions.count() == 2
