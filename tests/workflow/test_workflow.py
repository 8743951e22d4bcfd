"""Review and approval: every transition by role, edits after approval, comments, notifications,
"Waiting for me", the web panel and workspace isolation."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from copywriter.documents.models import DocumentVersion
from copywriter.documents.services import (
    document_create,
    document_restore,
    document_save,
    document_trash,
)
from copywriter.workflow import services
from copywriter.workflow.models import Comment, DocumentState, ReviewRequest, State
from copywriter.workflow.signals import document_state_changed
from tests.support.cast import client_for
from tests.support.report import report


@pytest.fixture(autouse=True)
def _no_index(monkeypatch):
    # Documents tell originality to re-index after commit; no broker in these tests.
    monkeypatch.setattr("copywriter.originality.services._enqueue", lambda *a, **k: None)


@pytest.fixture
def doc(cast):
    return document_create(membership=cast.bob_m, title="Spring launch",
                           body="Our boots keep you dry on every trail.")


@pytest.fixture
def heard():
    """Every document_state_changed sent (after commit), as (old, new, actor email, version)."""
    got: list[tuple] = []

    def receiver(sender, document, version, old, new, actor, comment, **kw):
        got.append((old, new, actor.email if actor else None, version.number if version else None,
                    comment))

    document_state_changed.connect(receiver, weak=False, dispatch_uid="test-heard")
    yield got
    document_state_changed.disconnect(dispatch_uid="test-heard")


def state(doc) -> str:
    return DocumentState.objects.get(document=doc).state


def put_in(cast, doc, target: str) -> None:
    """Take ``doc`` to ``target`` by the legal path, as its editor (bob) and the owner (alice)."""
    if target == State.DRAFT:
        return
    services.request_review(membership=cast.bob_m, document_id=doc.pk,
                            reviewer_ids=[cast.alice.pk])
    if target == State.IN_REVIEW:
        return
    if target == State.CHANGES_REQUESTED:
        services.request_changes(membership=cast.alice_m, document_id=doc.pk, comment="Shorter.")
        return
    services.approve(membership=cast.alice_m, document_id=doc.pk)
    if target == State.PUBLISHED:
        services.publish(membership=cast.bob_m, document_id=doc.pk)


def test_the_whole_path_records_and_signals_each_transition_after_commit(
        cast, doc, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.request_review(membership=cast.bob_m, document_id=doc.pk,
                                reviewer_ids=[cast.alice.pk], comment="Ready for you")
    assert state(doc) == State.IN_REVIEW
    assert heard == [("draft", "in_review", "bob@example.com", 1, "Ready for you")]
    with django_capture_on_commit_callbacks(execute=True):
        services.request_changes(membership=cast.alice_m, document_id=doc.pk,
                                 comment="Say waterproof, not dry.")
    with django_capture_on_commit_callbacks(execute=True):
        result = document_save(membership=cast.bob_m, document_id=doc.pk, title=doc.title,
                               body="Our waterproof boots keep you dry.", base_number=1)
    assert result.changed and state(doc) == State.CHANGES_REQUESTED  # an edit is not a decision
    with django_capture_on_commit_callbacks(execute=True):
        # re-request with nobody named: the last round's reviewers
        services.request_review(membership=cast.bob_m, document_id=doc.pk, reviewer_ids=[])
    assert list(ReviewRequest.objects.filter(document=doc, decision="")
                .values_list("reviewer__email", "version")) == [("alice@example.com", 2)]
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(membership=cast.alice_m, document_id=doc.pk, comment="Lovely")
    with django_capture_on_commit_callbacks(execute=True):
        services.publish(membership=cast.alice_m, document_id=doc.pk)
    st = DocumentState.objects.get(document=doc)
    assert (st.state, st.version, st.approved_version, st.published_version) == (
        "published", 2, 2, 2)
    assert [(h[0], h[1], h[2], h[3]) for h in heard] == [
        ("draft", "in_review", "bob@example.com", 1),
        ("in_review", "changes_requested", "alice@example.com", 1),
        ("changes_requested", "in_review", "bob@example.com", 2),
        ("in_review", "approved", "alice@example.com", 2),
        ("approved", "published", "alice@example.com", 2)]
    # The decisions' comments stay with the version they were made on.
    assert list(Comment.objects.filter(document=doc).values_list("version", "body")) == [
        (1, "Say waterproof, not dry."), (2, "Lovely")]


def test_a_refused_transition_sends_nothing_and_changes_nothing(
        cast, doc, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), \
            pytest.raises(services.WorkflowError) as exc:
        services.approve(membership=cast.alice_m, document_id=doc.pk)
    assert "draft" in exc.value.message and "Request a review first" in exc.value.message
    assert heard == [] and not DocumentState.objects.filter(document=doc,
                                                            state="approved").exists()


ACTIONS = {
    "request_review": lambda cast, m, doc: services.request_review(
        membership=m, document_id=doc.pk, reviewer_ids=[cast.alice.pk]),
    "approve": lambda cast, m, doc: services.approve(membership=m, document_id=doc.pk),
    "request_changes": lambda cast, m, doc: services.request_changes(
        membership=m, document_id=doc.pk, comment="Tighter"),
    "publish": lambda cast, m, doc: services.publish(membership=m, document_id=doc.pk),
}
LEGAL_FROM = {"request_review": {"draft", "changes_requested"}, "approve": {"in_review"},
              "request_changes": {"in_review"}, "publish": {"approved"}}
RESULT = {"request_review": "in_review", "approve": "approved",
          "request_changes": "changes_requested", "publish": "published"}
WHO = {"request_review": {"owner", "editor"}, "approve": {"owner"},
       "request_changes": {"owner"}, "publish": {"owner", "editor"}}


@pytest.mark.parametrize("role", ["owner", "editor", "viewer"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("start", [s.value for s in State])
def test_every_transition_by_role(cast, doc, start, action, role):
    put_in(cast, doc, start)
    membership = {"owner": cast.alice_m, "editor": cast.bob_m, "viewer": cast.vera_m}[role]
    if role in WHO[action] and start in LEGAL_FROM[action]:
        ACTIONS[action](cast, membership, doc)
        assert state(doc) == RESULT[action]
        return
    with pytest.raises(services.WorkflowError) as exc:
        ACTIONS[action](cast, membership, doc)
    # who may not: 403 whatever the state; may, but not now: 400 naming the state
    assert exc.value.status == (403 if role not in WHO[action] else 400), exc.value.message
    if role in WHO[action]:
        assert State(start).label.lower() in exc.value.message
    assert DocumentState.objects.filter(document=doc).values_list(
        "state", flat=True).first() in (None, start)


def test_named_reviewers_approve_instead_of_owners(cast, doc):
    with pytest.raises(services.WorkflowError) as exc:
        services.settings_update(membership=cast.bob_m, approvers="reviewers",
                                 reviewer_ids=[cast.bob.pk], publish_needs_approval=True,
                                 approval_needs_clean_style=False)
    assert exc.value.status == 403
    with pytest.raises(services.WorkflowError, match="viewer role"):
        services.settings_update(membership=cast.alice_m, approvers="reviewers",
                                 reviewer_ids=[cast.vera.pk], publish_needs_approval=True,
                                 approval_needs_clean_style=False)
    with pytest.raises(services.WorkflowError, match="at least one reviewer"):
        services.settings_update(membership=cast.alice_m, approvers="reviewers",
                                 reviewer_ids=[], publish_needs_approval=True,
                                 approval_needs_clean_style=False)
    with pytest.raises(services.WorkflowError, match="not a member"):
        services.settings_update(membership=cast.alice_m, approvers="reviewers",
                                 reviewer_ids=[cast.charlie.pk], publish_needs_approval=True,
                                 approval_needs_clean_style=False)
    services.settings_update(membership=cast.alice_m, approvers="reviewers",
                             reviewer_ids=[cast.bob.pk], publish_needs_approval=True,
                             approval_needs_clean_style=True)
    with pytest.raises(services.WorkflowError, match="alice@example.com cannot approve"):
        services.request_review(membership=cast.bob_m, document_id=doc.pk,
                                reviewer_ids=[cast.alice.pk])
    services.request_review(membership=cast.alice_m, document_id=doc.pk,
                            reviewer_ids=[cast.bob.pk])
    with pytest.raises(services.WorkflowError) as exc:
        services.approve(membership=cast.alice_m, document_id=doc.pk)
    assert exc.value.status == 403 and "named reviewers" in exc.value.message
    services.approve(membership=cast.bob_m, document_id=doc.pk)  # no house rules: clean
    assert state(doc) == "approved"
    assert services.settings_for(cast.ws.pk).approval_needs_clean_style is True


def test_approval_can_require_a_clean_house_style_check(cast, doc):
    from copywriter.style.services import rules_save

    services.settings_update(membership=cast.alice_m, approvers="owners", reviewer_ids=[],
                             publish_needs_approval=True, approval_needs_clean_style=True)
    rules_save(membership=cast.alice_m, data={
        "banned": [{"term": "boots", "reason": "a competitor's name"}],
        "generic": False})
    services.request_review(membership=cast.bob_m, document_id=doc.pk,
                            reviewer_ids=[cast.alice.pk])
    with pytest.raises(services.WorkflowError, match="passes the house style check") as exc:
        services.approve(membership=cast.alice_m, document_id=doc.pk)
    assert "a competitor's name" in exc.value.message and state(doc) == "in_review"
    # proselint's generic advice alone does not hold the approval up; the workspace's own rules do.
    rules_save(membership=cast.alice_m, data={"banned": [], "generic": True})
    services.approve(membership=cast.alice_m, document_id=doc.pk)
    assert state(doc) == "approved"


def test_publishing_without_approval_where_the_workspace_allows_it(cast, doc):
    with pytest.raises(services.WorkflowError, match="needs an approval"):
        services.publish(membership=cast.bob_m, document_id=doc.pk)
    services.settings_update(membership=cast.alice_m, approvers="owners", reviewer_ids=[],
                             publish_needs_approval=False, approval_needs_clean_style=False)
    services.publish(membership=cast.bob_m, document_id=doc.pk)
    st = DocumentState.objects.get(document=doc)
    assert (st.state, st.published_version, st.approved_version) == ("published", 1, None)
    with pytest.raises(services.WorkflowError, match="already published"):
        services.publish(membership=cast.bob_m, document_id=doc.pk)


def test_an_edit_after_approval_is_a_new_draft_and_the_approved_version_stays_frozen(
        cast, doc, heard, bob_client, django_capture_on_commit_callbacks):
    put_in(cast, doc, State.APPROVED)
    approved_text = doc.body
    with django_capture_on_commit_callbacks(execute=True):
        document_save(membership=cast.bob_m, document_id=doc.pk, title="Spring launch v2",
                      body="Rewritten after approval.", base_number=1)
    st = DocumentState.objects.get(document=doc)
    assert (st.state, st.version, st.approved_version) == ("draft", 2, 1)
    assert heard[-1][:4] == ("approved", "draft", "bob@example.com", 2)
    # a restore of another version and a trash leave the approved version as it was
    document_restore(membership=cast.bob_m, document_id=doc.pk, number=2)
    document_trash(membership=cast.bob_m, document_id=doc.pk)
    frozen = DocumentVersion.objects.get(document=doc, number=1)
    assert (frozen.title, frozen.body) == ("Spring launch", approved_text)
    url = reverse("workflow:export_version", args=[cast.ws.pk, doc.pk, 1, "md"])
    doc.deleted_at = None
    doc.save()
    response = bob_client.get(url)
    assert response.status_code == 200
    assert response.content.decode() == f"# Spring launch\n\n{approved_text}\n"
    assert 'filename="spring-launch-v1.md"' in response["Content-Disposition"]
    panel = bob_client.get(reverse("workflow:panel", args=[cast.ws.pk, doc.pk]),
                           HTTP_HX_REQUEST="true").content.decode()
    assert "Approved: <a" in panel and "version 1</a>" in panel


def test_an_edit_after_publishing_is_a_draft_and_keeps_the_published_version(cast, doc):
    put_in(cast, doc, State.PUBLISHED)
    document_save(membership=cast.alice_m, document_id=doc.pk, title=doc.title, body="Next",
                  base_number=1)
    st = DocumentState.objects.get(document=doc)
    assert (st.state, st.published_version, st.approved_version) == ("draft", 1, 1)
    assert services.frozen_version(doc, "published").body == "Our boots keep you dry on every trail."


def test_a_stale_edit_of_an_approved_document_is_kept_and_leaves_it_approved(cast, doc):
    put_in(cast, doc, State.APPROVED)
    document_save(membership=cast.alice_m, document_id=doc.pk, title=doc.title, body="Unchanged?",
                  base_number=1)  # alice's edit: version 2, back to draft
    services.request_review(membership=cast.alice_m, document_id=doc.pk,
                            reviewer_ids=[cast.alice.pk])
    services.approve(membership=cast.alice_m, document_id=doc.pk)
    result = document_save(membership=cast.bob_m, document_id=doc.pk, title=doc.title,
                           body="Bob's text from an old tab", base_number=1)
    assert result.conflict and result.version.body == "Bob's text from an old tab"
    st = DocumentState.objects.get(document=doc)
    assert (st.state, st.approved_version) == ("approved", 2)  # the conflict copy is not the head
    # an unchanged save is not an edit either
    document_save(membership=cast.alice_m, document_id=doc.pk, title=doc.title, body="Unchanged?",
                  base_number=2)
    assert state(doc) == "approved"


def test_review_requests_only_to_members_who_may_approve(cast, doc):
    with pytest.raises(services.WorkflowError, match="bob@example.com cannot approve"):
        services.request_review(membership=cast.bob_m, document_id=doc.pk,
                                reviewer_ids=[cast.bob.pk])
    with pytest.raises(services.WorkflowError, match="not a member"):
        services.request_review(membership=cast.bob_m, document_id=doc.pk,
                                reviewer_ids=[cast.charlie.pk])
    with pytest.raises(services.WorkflowError, match="at least one reviewer"):
        services.request_review(membership=cast.bob_m, document_id=doc.pk, reviewer_ids=[])
    assert not DocumentState.objects.filter(document=doc).exclude(state="draft").exists()
    assert not ReviewRequest.objects.exists()


# --- comments ---------------------------------------------------------------------------------

def test_comments_on_passages_threads_and_resolving(cast, doc):
    body = doc.body
    start = body.index("dry")
    c = services.comment_create(membership=cast.alice_m, document_id=doc.pk, body="Waterproof?",
                                quote="dry", start=start, end=start + 3)
    assert (c.version, c.quote, c.start, c.end) == (1, "dry", start, start + 3)
    moved = services.comment_create(membership=cast.alice_m, document_id=doc.pk, body="Which?",
                                    quote="every trail", start=0, end=11)  # offsets of a stale view
    assert (moved.start, moved.end) == (body.index("every trail"), body.index("every trail") + 11)
    with pytest.raises(services.WorkflowError, match="not in version 1"):
        services.comment_create(membership=cast.alice_m, document_id=doc.pk, body="?",
                                quote="not in the text")
    with pytest.raises(services.WorkflowError, match="Write a comment"):
        services.comment_create(membership=cast.alice_m, document_id=doc.pk, body="   ")
    with pytest.raises(services.WorkflowError) as exc:
        services.comment_create(membership=cast.vera_m, document_id=doc.pk, body="Viewer")
    assert exc.value.status == 403
    document_save(membership=cast.bob_m, document_id=doc.pk, title=doc.title,
                  body="Our waterproof boots.", base_number=1)
    reply = services.comment_create(membership=cast.bob_m, document_id=doc.pk, body="Done",
                                    parent_id=c.pk)
    reply_to_reply = services.comment_create(membership=cast.alice_m, document_id=doc.pk,
                                             body="Thanks", parent_id=reply.pk)
    assert reply.parent_id == c.pk and reply_to_reply.parent_id == c.pk  # one level of threads
    assert reply.version == 1  # a reply lives with its thread's version
    services.comment_resolve(membership=cast.bob_m, document_id=doc.pk, comment_id=reply.pk)
    c.refresh_from_db()
    assert c.resolved_at is not None and c.resolved_by == cast.bob
    threads = services.comment_threads(doc)
    assert [t.body for t in threads] == ["Waterproof?", "Which?"]
    assert [r.body for r in threads[0].thread] == ["Done", "Thanks"]
    assert services.comment_threads(doc, version=2) == []
    # another document's comment cannot be the parent
    other = document_create(membership=cast.bob_m, title="Other", body="x")
    with pytest.raises(services.WorkflowError, match="not on this document"):
        services.comment_create(membership=cast.bob_m, document_id=other.pk, body="x",
                                parent_id=c.pk)


def test_comments_show_on_their_version_and_marked_on_the_current_one(cast, doc, alice_client):
    services.comment_create(membership=cast.alice_m, document_id=doc.pk, body="About v1",
                            quote="boots")
    document_save(membership=cast.bob_m, document_id=doc.pk, title=doc.title, body="v2 text",
                  base_number=1)
    panel = alice_client.get(reverse("workflow:panel", args=[cast.ws.pk, doc.pk]),
                             HTTP_HX_REQUEST="true").content.decode()
    assert "About v1" in panel and ">on version 1</a>" in panel and "<blockquote" in panel
    v1 = alice_client.get(reverse("workflow:version_comments", args=[cast.ws.pk, doc.pk, 1]))
    assert "About v1" in v1.content.decode() and ">on version 1</a>" not in v1.content.decode()
    v2 = alice_client.get(reverse("workflow:version_comments", args=[cast.ws.pk, doc.pk, 2]))
    assert "About v1" not in v2.content.decode() and "No comments yet" in v2.content.decode()
    page = alice_client.get(reverse("documents:version", args=[cast.ws.pk, doc.pk, 1]))
    assert reverse("workflow:version_comments", args=[cast.ws.pk, doc.pk, 1]) in page.content.decode()


# --- notifications ----------------------------------------------------------------------------

def test_notifications_are_sent_after_commit_and_each_kind_can_be_turned_off(
        cast, doc, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.request_review(membership=cast.bob_m, document_id=doc.pk,
                                reviewer_ids=[cast.alice.pk])
    assert [(m.subject, m.to) for m in mail.outbox] == [
        ("Review requested: Spring launch", ["alice@example.com"])]
    assert "/account/notifications/" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        services.request_changes(membership=cast.alice_m, document_id=doc.pk,
                                 comment="Please ask @vera about the claim")
    assert [(m.subject, m.to) for m in mail.outbox[1:]] == [
        ("Changes requested: Spring launch", ["bob@example.com"]),
        ("Alice mentioned you: Spring launch", ["vera@example.com"])]
    # Each member turns off what they do not want.
    services.preferences_update(user=cast.alice, review_requested=False, decisions=True,
                                mentions=True)
    services.preferences_update(user=cast.bob, review_requested=True, decisions=False,
                                mentions=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_review(membership=cast.bob_m, document_id=doc.pk, reviewer_ids=[])
        services.approve(membership=cast.alice_m, document_id=doc.pk, comment="@bob @Vera ok")
    assert [(m.subject, m.to) for m in mail.outbox] == [
        ("Alice mentioned you: Spring launch", ["vera@example.com"])]


def test_a_mention_of_yourself_or_a_non_member_emails_nobody(cast, doc,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_create(membership=cast.bob_m, document_id=doc.pk,
                                body="@bob @charlie email@bob.example me@ x")
    assert mail.outbox == []
    assert [m.user.email for m in services.mentioned_members(
        cast.ws.pk, "cc @Alice, and @vera.")] == ["alice@example.com", "vera@example.com"]


def test_nothing_is_sent_when_the_transaction_rolls_back(cast, doc,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, \
            pytest.raises(services.WorkflowError):
        services.request_review(membership=cast.bob_m, document_id=doc.pk,
                                reviewer_ids=[cast.alice.pk, cast.bob.pk])
    assert callbacks == [] and mail.outbox == []


def test_a_failed_send_is_logged_and_the_change_stays(cast, doc, monkeypatch, caplog,
                                                      django_capture_on_commit_callbacks):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(services, "send_mail", down)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_review(membership=cast.bob_m, document_id=doc.pk,
                                reviewer_ids=[cast.alice.pk])
    assert state(doc) == "in_review"
    assert "workflow notification to alice@example.com failed" in caplog.text


def test_the_preferences_page(cast, bob_client):
    url = reverse("workflow:notifications")
    assert "When someone asks me to review" in bob_client.get(url).content.decode()
    response = bob_client.post(url, {"review_requested": "on"})
    assert response.status_code == 302
    prefs = services.preferences_for(cast.bob)
    assert (prefs.review_requested, prefs.decisions, prefs.mentions) == (True, False, False)


# --- the web ----------------------------------------------------------------------------------

def test_waiting_for_me_lists_my_open_requests_only(cast, doc, alice_client, bob_client):
    services.request_review(membership=cast.bob_m, document_id=doc.pk,
                            reviewer_ids=[cast.alice.pk], comment="Before Friday")
    page = alice_client.get(reverse("workflow:waiting", args=[cast.ws.pk])).content.decode()
    assert "Spring launch" in page and "Before Friday" in page
    count = alice_client.get(reverse("workflow:waiting_count", args=[cast.ws.pk])).content.decode()
    assert ">1</span>" in count
    assert "Nothing is waiting" in bob_client.get(
        reverse("workflow:waiting", args=[cast.ws.pk])).content.decode()
    assert ">1<" not in bob_client.get(
        reverse("workflow:waiting_count", args=[cast.ws.pk])).content.decode()
    services.approve(membership=cast.alice_m, document_id=doc.pk)
    assert "Nothing is waiting" in alice_client.get(
        reverse("workflow:waiting", args=[cast.ws.pk])).content.decode()
    # the nav link is on every workspace page
    assert reverse("workflow:waiting_count", args=[cast.ws.pk]) in alice_client.get(
        reverse("documents:list", args=[cast.ws.pk])).content.decode()


def test_the_panel_shows_each_member_only_their_buttons_and_acts_through_htmx(
        cast, doc, alice_client, bob_client):
    vera = client_for(cast.vera)
    url = reverse("workflow:panel", args=[cast.ws.pk, doc.pk])
    bob_panel = bob_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-state="draft"' in bob_panel and "Request review" in bob_panel
    assert "approve-button" not in bob_panel
    assert "Request review" not in vera.get(url, HTTP_HX_REQUEST="true").content.decode()
    response = bob_client.post(reverse("workflow:request_review", args=[cast.ws.pk, doc.pk]),
                               {"reviewers": [cast.alice.pk]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-state="in_review"' in response.content.decode()
    alice_panel = alice_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "approve-button" in alice_panel and "request-changes-button" in alice_panel
    # a refusal is shown in the panel, the comment typed kept
    response = alice_client.post(reverse("workflow:request_changes", args=[cast.ws.pk, doc.pk]),
                                 {"comment": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "Write a comment" in response.content.decode()
    # without htmx: the panel's own page with the status (403: not you)
    response = bob_client.post(reverse("workflow:approve", args=[cast.ws.pk, doc.pk]),
                               {"comment": "I approve my own work"})
    assert response.status_code == 403 and "Only owners" in response.content.decode()
    response = alice_client.post(reverse("workflow:approve", args=[cast.ws.pk, doc.pk]))
    assert response.status_code == 302 and state(doc) == "approved"
    # the document page loads the panel (documents never imports workflow)
    page = bob_client.get(reverse("documents:edit", args=[cast.ws.pk, doc.pk])).content.decode()
    assert f'hx-get="{url}"' in page and 'hx-trigger="load"' in page


def test_a_passage_comment_from_the_web(cast, doc, alice_client):
    url = reverse("workflow:comment_create", args=[cast.ws.pk, doc.pk])
    response = alice_client.post(url, {"body": "Which trails?", "passage": "1", "quote": "",
                                       "version": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "Select a passage" in response.content.decode()
    response = alice_client.post(url, {"body": "Which trails?", "passage": "1",
                                       "quote": "every trail", "start": "26", "end": "37",
                                       "version": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    c = Comment.objects.get(document=doc)
    assert (c.quote, c.start, c.end, c.version) == ("every trail", 26, 37, 1)
    assert doc.body[26:37] == "every trail"
    response = alice_client.post(reverse("workflow:comment_resolve",
                                         args=[cast.ws.pk, doc.pk, c.pk]), HTTP_HX_REQUEST="true")
    assert "Reopen" in response.content.decode()


def test_settings_page_for_owners(cast, alice_client, bob_client):
    url = reverse("workflow:settings", args=[cast.ws.pk])
    assert bob_client.get(url).status_code == 403
    response = alice_client.post(url, {"approvers": "reviewers", "reviewers": []})
    assert response.status_code == 400 and "Name at least one reviewer" in response.content.decode()
    response = alice_client.post(url, {"approvers": "reviewers", "reviewers": [cast.bob.pk],
                                       "approval_needs_clean_style": "on"})
    assert response.status_code == 302
    row = services.settings_for(cast.ws.pk)
    assert (row.approvers, row.publish_needs_approval, row.approval_needs_clean_style) == (
        "reviewers", False, True)
    assert list(row.reviewers.values_list("email", flat=True)) == ["bob@example.com"]
    response = alice_client.post(url, {"approvers": "owners", "reviewers": ["x"]})
    assert response.status_code == 400


def test_another_workspaces_documents_are_404(cast, doc, charlie_client):
    services.request_review(membership=cast.bob_m, document_id=doc.pk,
                            reviewer_ids=[cast.alice.pk])
    c = services.comment_create(membership=cast.bob_m, document_id=doc.pk, body="secret note")
    own = cast.other.pk
    for name, args, method in [
            ("workflow:panel", [own, doc.pk], "get"),
            ("workflow:version_comments", [own, doc.pk, 1], "get"),
            ("workflow:export_version", [own, doc.pk, 1, "md"], "get"),
            ("workflow:request_review", [own, doc.pk], "post"),
            ("workflow:approve", [own, doc.pk], "post"),
            ("workflow:request_changes", [own, doc.pk], "post"),
            ("workflow:publish", [own, doc.pk], "post"),
            ("workflow:comment_create", [own, doc.pk], "post"),
            ("workflow:comment_resolve", [own, doc.pk, c.pk], "post")]:
        response = getattr(charlie_client, method)(reverse(name, args=args),
                                                   {"body": "x", "comment": "x"})
        assert response.status_code == 404, name
    # and inside my own workspace, their comment on my document is not found either
    mine = document_create(membership=cast.charlie_m, title="Mine", body="text")
    response = charlie_client.post(reverse("workflow:comment_resolve", args=[own, mine.pk, c.pk]))
    assert response.status_code == 404
    c.refresh_from_db()
    assert c.resolved_at is None and state(doc) == "in_review"
    assert Comment.objects.filter(document=doc).count() == 1
    assert "Spring launch" not in charlie_client.get(
        reverse("workflow:waiting", args=[own])).content.decode()
    report("workflow: another workspace's documents and comments are 404 on 9 URLs")


def test_a_passage_comment_on_an_older_versions_page(cast, doc, alice_client):
    document_save(membership=cast.bob_m, document_id=doc.pk, title=doc.title, body="v2 text",
                  base_number=1)
    url = reverse("workflow:comment_create", args=[cast.ws.pk, doc.pk])
    form = alice_client.get(reverse("workflow:version_comments",
                                    args=[cast.ws.pk, doc.pk, 1])).content.decode()
    assert 'id="version-comment-form"' in form and 'name="version" value="1"' in form
    response = alice_client.post(url, {"body": "Too vague", "passage": "1", "quote": "keep you",
                                       "version": "1", "back": "version"})
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:version", args=[cast.ws.pk, doc.pk, 1])
    c = Comment.objects.get(document=doc)
    assert (c.version, c.quote, c.start) == (1, "keep you", doc.body.index("keep you"))
    # a selection that is only in the current version is refused on version 1, text kept
    response = alice_client.post(url, {"body": "My long note", "passage": "1", "quote": "v2 text",
                                       "version": "1", "back": "version"})
    assert response.status_code == 400 and "not in version 1" in response.content.decode()
    assert ">My long note</textarea>" in response.content.decode()
    assert Comment.objects.filter(document=doc).count() == 1


def test_owners_find_the_settings_from_the_members_page(cast, alice_client, bob_client):
    url = reverse("workflow:settings", args=[cast.ws.pk])
    members = reverse("workspaces:members", args=[cast.ws.pk])
    assert url in alice_client.get(members).content.decode()
    assert url not in bob_client.get(members).content.decode()
