"""Backups keep the workflow: states, review requests, threaded comments and the settings."""

from __future__ import annotations

import pytest

from copywriter.backup import services as backup
from copywriter.documents.services import document_create, document_save
from copywriter.workflow import services
from copywriter.workflow.models import Comment, DocumentState, ReviewRequest, WorkflowSettings
from copywriter.workspaces.models import Workspace


@pytest.fixture(autouse=True)
def _no_index(monkeypatch):
    monkeypatch.setattr("copywriter.originality.services._enqueue", lambda *a, **k: None)


def snapshot() -> dict:
    return {
        "states": sorted(DocumentState.objects.values_list(
            "document__title", "state", "version", "approved_version", "published_version",
            "changed_by__email", "changed_at"), key=str),
        "requests": sorted(ReviewRequest.objects.values_list(
            "document__title", "version", "reviewer__email", "requested_by__email", "decision",
            "decided_by__email", "comment", "created_at"), key=str),
        "comments": sorted(Comment.objects.values_list(
            "document__title", "version", "parent__body", "author__email", "body", "quote",
            "start", "end", "resolved_by__email", "created_at"), key=str),
        "settings": sorted((w.workspace.name, w.approvers, w.publish_needs_approval,
                            w.approval_needs_clean_style,
                            tuple(sorted(w.reviewers.values_list("email", flat=True))))
                           for w in WorkflowSettings.objects.all()),
    }


def test_round_trip_into_an_empty_database_and_again_adds_nothing(cast):
    services.settings_update(membership=cast.alice_m, approvers="reviewers",
                             reviewer_ids=[cast.alice.pk, cast.bob.pk],
                             publish_needs_approval=True, approval_needs_clean_style=True)
    doc = document_create(membership=cast.bob_m, title="Spring launch", body="Dry boots.")
    services.request_review(membership=cast.bob_m, document_id=doc.pk,
                            reviewer_ids=[cast.alice.pk])
    first = services.comment_create(membership=cast.alice_m, document_id=doc.pk,
                                    body="Which boots?", quote="boots")
    services.request_changes(membership=cast.alice_m, document_id=doc.pk, comment="Name them")
    services.comment_create(membership=cast.bob_m, document_id=doc.pk, body="Fernway",
                            parent_id=first.pk)
    services.comment_resolve(membership=cast.bob_m, document_id=doc.pk, comment_id=first.pk)
    document_save(membership=cast.bob_m, document_id=doc.pk, title=doc.title,
                  body="Dry Fernway boots.", base_number=1)
    services.request_review(membership=cast.bob_m, document_id=doc.pk, reviewer_ids=[])
    services.approve(membership=cast.alice_m, document_id=doc.pk)
    services.publish(membership=cast.alice_m, document_id=doc.pk)
    document_create(membership=cast.bob_m, title="Untouched draft", body="x")
    before = snapshot()
    assert len(before["comments"]) == 3 and len(before["requests"]) == 2

    data = backup.dump()
    Workspace.objects.all().delete()
    assert not DocumentState.objects.exists() and not Comment.objects.exists()
    report = backup.restore(data, add_existing_members=["alice@example.com", "bob@example.com",
                                                        "vera@example.com"])
    assert snapshot() == before
    assert (report.created["workflow_states"], report.created["review_requests"],
            report.created["comments"]) == (1, 2, 3)
    report = backup.restore(data)
    assert "workflow_states" not in report.created and "comments" not in report.created
    assert report.existing["comments"] == 3
    assert snapshot() == before


@pytest.mark.parametrize("bad, where", [
    ({"state": {"state": "lost", "changed_at": "2026-01-01T00:00:00+00:00"}}, "state"),
    ({"comments": [{"version": 1, "parent": 5, "author": None, "body": "x", "quote": "",
                    "start": None, "end": None, "created_at": "2026-01-01T00:00:00+00:00",
                    "resolved_at": None, "resolved_by": None}]}, "comments[0].parent"),
    ({"review_requests": [{"version": 1, "reviewer": "nobody@example.com",
                           "requested_by": None, "created_at": "2026-01-01T00:00:00+00:00",
                           "decision": "maybe", "decided_by": None, "decided_at": None,
                           "comment": ""}]}, "review_requests[0].reviewer"),
])
def test_a_damaged_workflow_section_is_refused_whole(cast, bad, where):
    doc = document_create(membership=cast.bob_m, title="Spring launch", body="Dry boots.")
    services.comment_create(membership=cast.bob_m, document_id=doc.pk, body="hello")
    data = backup.dump()
    row = data["workflow_documents"][0]
    row.update({"state": None, "review_requests": [], "comments": [], **bad})
    Comment.objects.all().delete()
    with pytest.raises(backup.BackupError) as exc:
        backup.restore(data)
    assert f"workflow_documents[0].{where}" in exc.value.message
    assert not Comment.objects.exists()
