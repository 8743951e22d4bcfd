"""The MCP server as a desktop client meets it: `manage.py mcp` in its own process, spoken to by
the SDK's ClientSession over stdio (and over streamable HTTP), acting as one API token."""

from __future__ import annotations

import subprocess

import httpx2
import pytest

from copywriter.api import services as token_services
from copywriter.documents.models import Document
from copywriter.generation.models import Generation
from copywriter.originality.models import OriginalityCheck
from tests.support import mcp as support
from tests.support.report import report
from tests.support.templates import GOOD

pytestmark = [pytest.mark.django_db(transaction=True)]

TOOLS = {"list_templates", "search_templates", "get_template", "generate", "get_generation",
         "list_documents", "read_document", "create_document", "check_originality",
         "request_review"}


def token(membership, role: str = "editor") -> str:
    return token_services.token_create(membership=membership, name="desktop", role=role).secret


def test_an_editor_lists_the_tools_finds_a_template_and_writes_a_document(cast, ad_template,
                                                                            tmp_path):
    secret = token(cast.bob_m)
    theirs = Document.objects.create(workspace=cast.other, title="Charlie's plan", body="secret",
                                     head_number=1, created_by=cast.charlie)

    async def main():
        async with support.stdio_session(secret, tmp_path / "mcp.log") as session:
            tools = {t.name: t for t in (await session.list_tools()).tools}
            calls = {
                "search": await session.call_tool("search_templates", {"query": "google ad"}),
                "template": await session.call_tool("get_template",
                                                    {"template": "google-search-ad"}),
                "by_id": await session.call_tool("get_template",
                                                 {"template": str(ad_template.pk)}),
                "created": await session.call_tool("create_document", {
                    "title": "Boots launch", "body": "Dry feet on every trail.\n\nFree returns."}),
                "unknown": await session.call_tool("generate", {"template": "no-such-template",
                                                                "fields": GOOD}),
                "missing": await session.call_tool("generate", {
                    "template": "google-search-ad", "fields": {"keyword": "boots"}}),
                "bad_tone": await session.call_tool("generate", {
                    "template": "google-search-ad", "fields": GOOD, "tone": "sarcastic"}),
                "bad_limit": await session.call_tool("list_templates", {"limit": 0}),
                "theirs": await session.call_tool("read_document", {"document_id": theirs.pk}),
            }
            doc_id = calls["created"].structured_content["id"]
            calls["read"] = await session.call_tool("read_document", {"document_id": doc_id})
            calls["listed"] = await session.call_tool("list_documents", {"query": "boots"})
            return tools, calls

    tools, calls = support.run(main)

    # Every tool, each with a JSON schema of typed, described parameters and an output schema.
    assert set(tools) == TOOLS
    gen = tools["generate"].input_schema
    assert gen["required"] == ["template", "fields"]
    assert gen["properties"]["fields"]["type"] == "object"
    assert gen["properties"]["wait_seconds"]["maximum"] == 300
    assert all(p.get("description") for t in tools.values() for p in t.input_schema["properties"].values())
    assert tools["search_templates"].input_schema["properties"]["query"]["maxLength"] == 100
    assert tools["read_document"].input_schema["properties"]["document_id"]["type"] == "integer"
    assert {"id", "status", "variants"} <= set(tools["generate"].output_schema["properties"])
    assert tools["list_documents"].annotations.read_only_hint is True
    assert tools["create_document"].annotations.read_only_hint is False

    found = calls["search"].structured_content
    assert not calls["search"].is_error and found["count"] >= 1
    assert found["items"][0]["slug"] == "google-search-ad"
    detail = calls["template"].structured_content
    assert [f["name"] for f in detail["fields"]] == ["product", "benefit", "keyword"]
    assert [f["required"] for f in detail["fields"]] == [True, True, False]
    assert "professional" in detail["tones"] and detail["lengths"] == ["short", "medium", "long"]
    assert calls["by_id"].structured_content["slug"] == "google-search-ad"

    created = calls["created"].structured_content
    doc = Document.objects.get(pk=created["id"])
    assert (doc.workspace_id, doc.created_by_id) == (cast.ws.pk, cast.bob.pk)  # the token's
    assert doc.body == "Dry feet on every trail.\n\nFree returns."
    assert calls["read"].structured_content["body"] == doc.body
    assert calls["read"].structured_content["versions"][0]["author"] == "bob@example.com"
    assert [d["id"] for d in calls["listed"].structured_content["items"]] == [doc.pk]

    # Errors: the API's own answers, as JSON naming the field where one is at fault.
    assert support.error_of(calls["unknown"]) == {
        "status": 404, "detail": "Not found in this token's workspace.", "errors": {}}
    missing = support.error_of(calls["missing"])
    assert missing["status"] == 400 and missing["detail"] == "Some fields need attention."
    assert missing["errors"] == {"product": "Product or service is required.",
                                 "benefit": "Main benefit or offer is required."}
    bad_tone = support.error_of(calls["bad_tone"])
    assert bad_tone["errors"] == {"tone": "Choose a tone from the list."}
    assert "Unknown tone 'sarcastic'" in bad_tone["detail"]
    assert calls["bad_limit"].is_error and "limit" in calls["bad_limit"].content[0].text
    assert support.error_of(calls["theirs"])["status"] == 404  # another workspace's id
    assert not Generation.objects.exists()  # nothing refused was stored
    report("mcp: stdio server lists 10 tools with schemas; templates, documents and refusals "
           "as the API answers them")


def test_a_viewer_token_reads_but_cannot_generate_or_create(cast, ad_template, tmp_path):
    secret = token(cast.bob_m, role="viewer")  # an editor's read-only token
    doc = Document.objects.create(workspace=cast.ws, title="Spring copy", body="Hello spring.",
                                  head_number=1, created_by=cast.alice)

    async def main():
        async with support.stdio_session(secret, tmp_path / "mcp.log") as session:
            return (await session.call_tool("generate", {"template": "google-search-ad",
                                                         "fields": GOOD}),
                    await session.call_tool("create_document", {"title": "Mine", "body": "x"}),
                    await session.call_tool("read_document", {"document_id": doc.pk}),
                    await session.call_tool("check_originality",
                                            {"document_id": doc.pk, "wait_seconds": 0}))

    generated, created, read, check = support.run(main)
    support.workers.flush()  # the check's task, published for a worker this test does not run
    read_only = {"status": 403, "detail": "This token is read-only (viewer role); writes need "
                                          "an editor token.", "errors": {}}
    assert support.error_of(generated) == read_only
    assert support.error_of(created) == read_only
    assert not read.is_error and read.structured_content["body"] == "Hello spring."
    assert not Generation.objects.exists() and Document.objects.count() == 1
    # Reading is enough to ask for an originality check (as in the API): queued, not waited for.
    assert not check.is_error
    assert {k: check.structured_content[k] for k in ("status", "document", "document_version")} \
        == {"status": "queued", "document": doc.pk, "document_version": 1}
    assert OriginalityCheck.objects.get(pk=check.structured_content["id"]).created_by == cast.bob


def test_an_editor_token_of_a_demoted_member_acts_as_a_viewer(cast, ad_template, tmp_path):
    secret = token(cast.bob_m)
    cast.bob_m.role = "viewer"
    cast.bob_m.save()

    async def main():
        async with support.stdio_session(secret, tmp_path / "mcp.log") as session:
            return await session.call_tool("create_document", {"title": "Mine", "body": "x"})

    assert support.error_of(support.run(main))["status"] == 403
    assert not Document.objects.exists()


def test_a_bad_or_missing_token_stops_the_server_at_start_with_the_reason(cast, tmp_path):
    revoked = token(cast.bob_m)
    token_services.token_revoke(membership=cast.bob_m,
                                token_id=token_services.token_authenticate(secret=revoked)[0].pk)
    cases = {"cw_not-a-token": "The API token was refused: Unknown API token.",
             revoked: "The API token was refused: This API token was revoked.",
             "": "No API token: pass --token cw_... or set COPYWRITER_API_TOKEN"}
    for secret, reason in cases.items():
        done = subprocess.run(support.manage(*(["--token", secret] if secret else [])),
                              env=support.server_env(COPYWRITER_API_TOKEN=""), cwd=support.ROOT,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert done.returncode != 0
        assert reason in done.stderr
        assert done.stdout == ""  # stdout belongs to the protocol


def test_streamable_http_authenticates_every_request_with_its_own_token(cast, ad_template,
                                                                        tmp_path):
    bob, charlie = token(cast.bob_m), token(cast.charlie_m)
    with support.http_server(tmp_path / "http.log") as url:
        hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        anonymous = httpx2.post(url, json=hello, timeout=30)
        forged = httpx2.post(url, json=hello, headers={"Authorization": "Bearer cw_forged"},
                             timeout=30)

        async def main():
            async with support.http_session(url, bob) as session:
                names = {t.name for t in (await session.list_tools()).tools}
                created = await session.call_tool("create_document",
                                                  {"title": "Over HTTP", "body": "Hello."})
            async with support.http_session(url, charlie) as session:
                theirs = await session.call_tool("read_document",
                                                 {"document_id": created.structured_content["id"]})
                mine = await session.call_tool("list_documents", {})
            return names, created, theirs, mine

        names, created, theirs, mine = support.run(main)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert "Send an API token" in anonymous.json()["detail"]
    assert forged.status_code == 401 and forged.json()["detail"] == "Unknown API token."
    assert names == TOOLS
    doc = Document.objects.get(pk=created.structured_content["id"])
    assert (doc.workspace_id, doc.created_by_id) == (cast.ws.pk, cast.bob.pk)
    assert support.error_of(theirs)["status"] == 404  # charlie's token: his workspace only
    assert mine.structured_content["count"] == 0
    report("mcp: streamable HTTP refuses requests without a valid token (401) and acts as each "
           "request's token")


@pytest.mark.slow
@pytest.mark.skipif(not support.workers.redis_available(), reason="needs Redis on 6379")
def test_generate_waits_for_a_real_worker_and_returns_the_variant_with_its_reports(
        cast, product_template, tiny_model_dir, tmp_path):
    """One short generation: the MCP server queues it on the broker, a real Celery worker
    (random-weight model, real pipeline and review stages) writes it, the tool waits."""
    (tmp_path / "no-adapters").mkdir()
    short = {"GENERATION_MAX_NEW_TOKENS": "40"}
    worker = support.workers.Worker(support.server_env(
        COPYWRITER_MODEL_PATH=str(tiny_model_dir), COPYWRITER_TONE_ADAPTERS=str(tmp_path / "no-adapters"),
        COPYWRITER_DEVICE="cpu", **short), tmp_path / "worker.log")
    secret = token(cast.bob_m)
    support.workers.flush()
    fields = {"product": "Trail boot", "customer": "Hikers who hate wet socks",
              "features": "Waterproof leather\nSizes 36-47", "length": "short (60-90 words)"}

    async def main():
        async with support.stdio_session(secret, tmp_path / "mcp.log", **short) as session:
            done = await session.call_tool("generate", {
                "template": "ecommerce-product-description", "fields": fields, "tone": "neutral",
                "variants": 1, "length": "short", "wait_seconds": 240})
            again = await session.call_tool("get_generation",
                                            {"generation_id": done.structured_content["id"]})
            return done, again

    worker.start()
    try:
        done, again = support.run(main)
    finally:
        worker.stop()
    log = (tmp_path / "worker.log").read_text()[-3000:]
    assert not done.is_error, done.content[0].text
    out = done.structured_content
    assert out["status"] == "done", log
    gen = Generation.objects.get(pk=out["id"])
    assert (gen.workspace_id, gen.created_by_id, gen.variants) == (cast.ws.pk, cast.bob.pk, 1)
    [variant] = out["variants"]
    assert variant["finished"] and variant["text"] == gen.results.get().text != ""
    assert variant["claims"] is not None and variant["claims"]["checked"] is not None
    assert variant["originality"]["verdict"] is not None, variant["originality"]
    assert again.structured_content["variants"] == out["variants"]
    report(f"mcp: generate through a real worker: 1 variant of {variant['tokens']} tokens, "
           "returned with its claims and originality reports")


def test_an_editor_asks_the_owner_for_a_review(cast, tmp_path):
    """The workflow through the agent: an editor's token puts a document in review for the
    owner, who is emailed (the console backend writes to stdout, which the stdio transport
    keeps off the wire); an unknown reviewer and a viewer's token get the API's answers."""
    from copywriter.workflow.models import DocumentState, ReviewRequest

    doc = Document.objects.create(workspace=cast.ws, title="Spring copy", body="Hello spring.",
                                  head_number=1, created_by=cast.bob)
    doc.versions.create(number=1, title=doc.title, body=doc.body, author=cast.bob)
    editor, viewer = token(cast.bob_m), token(cast.bob_m, role="viewer")

    async def main(secret, calls):
        async with support.stdio_session(secret, tmp_path / "mcp.log") as session:
            return [await session.call_tool("request_review", args) for args in calls]

    stranger, asked = support.run(lambda: main(editor, [
        {"document_id": doc.pk, "reviewers": ["nobody@example.com"]},
        {"document_id": doc.pk, "reviewers": ["alice@example.com"], "comment": "Launch copy"}]))
    (refused,) = support.run(lambda: main(viewer, [
        {"document_id": doc.pk, "reviewers": ["alice@example.com"]}]))
    assert support.error_of(stranger) == {
        "status": 400, "detail": "Not a member of this workspace: nobody@example.com.",
        "errors": {"reviewers": "Not a member."}}
    assert not asked.is_error, asked.content
    assert asked.structured_content["state"] == "in_review"
    assert DocumentState.objects.get(document=doc).state == "in_review"
    assert list(ReviewRequest.objects.filter(document=doc).values_list(
        "reviewer__email", "requested_by__email")) == [("alice@example.com", "bob@example.com")]
    assert support.error_of(refused)["status"] == 403
    assert "alice@example.com" in (tmp_path / "mcp.log").read_text()  # the email, on stderr
