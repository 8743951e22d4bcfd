"""A new user's whole journey in a real browser (Debian's chromium through Playwright), against a
live server on the test database and a real Celery worker running the real model.

Sign up, create a workspace, search the catalog, fill a template, pick a tone, generate and watch
the text arrive, read the originality verdict, (SEO enrich and accept, when the SEO app is there),
save to a document, edit it, invite a teammate who joins and sees it, restore an older version.

Screenshots go to a temporary folder, or to ``docs/screenshots/`` with
``COPYWRITER_SCREENSHOTS=docs/screenshots`` (how the committed ones were made).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from copywriter.ml.paths import adapters_dir, model_cache_dir
from tests.support import workers
from tests.support.cast import PASSWORD
from tests.support.report import report
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 860}
MOBILE = {"width": 390, "height": 844}
TONE = "witty"


def _signup_link(email: str) -> str:
    """The confirmation link in the last sign-up email to ``email`` (the live server runs in
    this process, so its mail lands in django.core.mail.outbox)."""
    from django.core import mail

    body = next(m.body for m in reversed(mail.outbox) if m.to == [email])
    return re.search(r"/accounts/signup/confirm/\S+/", body).group(0)  # SITE_URL is not the live server


def _requirements() -> str:
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (make test installs it)"
    if not (model_cache_dir() / "config.json").exists():
        return "the real model is not prepared (make test runs manage.py prepare_model)"
    if not (adapters_dir() / TONE / "adapter_model.safetensors").exists():
        return f"the trained {TONE} adapter is not in adapters/"
    return ""


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("COPYWRITER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    taken: list[str] = []

    def shot(page, name: str, *, full: bool = True) -> None:
        page.wait_for_timeout(150)  # let htmx finish its swap transitions
        # caret="initial": hiding the caret injects a <style>, which our CSP (rightly) blocks.
        page.screenshot(path=str(folder / f"{name}.png"), full_page=full, caret="initial")
        taken.append(name)

    shot.taken = taken  # type: ignore[attr-defined]
    return shot


def _mobile(browser, page, shots, name: str) -> None:
    """The same URL at a phone's width, with the same session cookie."""
    ctx = browser.new_context(viewport=MOBILE, device_scale_factor=1,
                              storage_state=page.context.storage_state())
    p = ctx.new_page()
    p.goto(page.url)
    shots(p, f"{name}-mobile", full=False)
    ctx.close()


def test_a_new_user_goes_from_sign_up_to_a_restored_version(live_server, builtin_templates, shots,
                                                            tmp_path):
    missing = _requirements()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import expect, sync_playwright

    url = workers.REDIS_URL if workers.redis_available() else settings.CELERY_BROKER_URL
    if url == workers.REDIS_URL:
        workers.flush()
    # The CMS's webhook receiver listens on this host: the web process and the worker allow
    # loopback targets, as a self-hoster with an internal CMS would (WEBHOOK_ALLOWED_NETWORKS).
    env = workers.worker_env(REDIS_URL=url, CELERY_BROKER_URL=url,
                             WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8")
    worker = workers.Worker(env, tmp_path / "worker.log").start()
    cms = WebhookReceiver()
    base = live_server.url
    steps: list[str] = []
    try:
        with workers.broker(url), override_settings(GENERATION_MAX_NEW_TOKENS=32,
                                                             WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"]), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            ctx = browser.new_context(viewport=DESKTOP, device_scale_factor=1)
            ctx.set_default_timeout(30_000)
            expect.set_options(timeout=30_000)  # two cores shared with a worker running a model
            page = ctx.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(f"{page.url}: {m.text}")
                    if m.type == "error" else None)

            # 1. Sign up: a personal workspace comes with the account.
            page.goto(f"{base}/accounts/signup/")
            shots(page, "signup")
            page.get_by_label("Your name").fill("Mara Quinn")
            page.get_by_label("Email").fill("mara@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign up").click()
            # The account is made from the link mailed to the address (sign-up does not say
            # which addresses are registered).
            expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
            page.goto(base + _signup_link("mara@example.com"))
            page.get_by_role("button", name="Create my account").click()
            expect(page.get_by_text("Welcome!")).to_be_visible()
            steps.append("signed up")

            # 2. A workspace for the launch, from the switcher menu (keyboard: it is a <details>).
            page.locator("details.switcher summary").click()
            page.get_by_role("link", name="+ New workspace").click()
            page.get_by_label("Name").fill("Fernway launch")
            page.get_by_role("button", name="Create").click()
            expect(page.get_by_text("Created Fernway launch.")).to_be_visible()
            ws = int(re.search(r"/w/(\d+)/", page.url).group(1))
            shots(page, "documents-empty")
            steps.append("created a workspace")

            # 2b. The owner chooses to see originality flags with their evidence rather than have
            # flagged variants rewritten automatically: on two shared CPU cores each automatic
            # rewrite is another batch, and an SEO rewrite resembles the copy it rewrites.
            page.get_by_role("link", name="Settings", exact=True).click()
            page.get_by_role("link", name="Originality settings").click()
            page.get_by_label("Rewrite a flagged variant automatically").select_option("off")
            page.get_by_role("button", name="Save").click()
            expect(page.get_by_label("Rewrite a flagged variant automatically")).to_have_value("off")
            steps.append("set originality flags to show evidence without automatic rewrites")

            # 3. Search the catalog as you type; the results swap in without a reload.
            page.get_by_role("link", name="Templates", exact=True).click()
            expect(page.locator("#template-results .card").first).to_be_visible()
            shots(page, "catalog", full=False)
            _mobile(browser, page, shots, "catalog")
            page.get_by_role("searchbox", name="Search templates").press_sequentially(
                "blog post introduction", delay=30)
            # The search lands in the address bar (shareable, Back works) and narrows the cards.
            expect(page).to_have_url(re.compile(r"q=blog(%20|\+)post(%20|\+)introduction"))
            expect(page.locator("#template-results .card").first).to_contain_text(
                "Blog post introduction")
            assert page.locator("#template-results .card").count() < 60
            steps.append("searched the catalog")

            # 4. Pick the template, fill it, choose a tone and a short length.
            # A long-form template: its text streams token by token, so the page can be seen
            # growing. (A search ad's items arrive whole, a batch at a time: on a quick machine
            # all of them land between two polls and there is nothing to see grow.)
            page.locator("#template-results").get_by_role(
                "link", name=re.compile("Blog post introduction")).first.click()
            page.get_by_label("Post title").fill("How to choose Fernway waterproof hiking boots")
            page.get_by_label("Target keyword").fill("waterproof hiking boots")
            page.get_by_label("Reader's problem").fill(
                "Wet feet on long hikes; not sure which boots stay dry")
            page.get_by_label("What the post covers").fill(
                "Full-grain leather uppers\nFree returns for 60 days\nHow to check the fit")
            page.get_by_label("Tone").select_option(TONE)
            page.get_by_label("Variants").fill("1")
            page.get_by_label("Length").select_option("short")
            shots(page, "generate-form")
            page.get_by_role("button", name="Generate").click()
            expect(page).to_have_url(re.compile(rf"/w/{ws}/generations/\d+/$"))
            steps.append("filled a template and chose a tone")

            # 5. Watch the text appear: sample the page while the worker writes.
            seen: list[tuple[str, int]] = []
            streaming_shot = False
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                status = page.locator("#generation-status .badge").first.inner_text()
                text = page.locator("#variant-0").inner_text().strip().strip("\u2026")
                seen.append((status, len(text)))
                if status == "Writing" and text and not streaming_shot:
                    shots(page, "generation-streaming")
                    streaming_shot = True
                if status in ("Done", "Failed"):
                    break
                page.wait_for_timeout(300)
            assert status == "Done", ((tmp_path / "worker.log").read_text()[-3000:], seen)
            partial = [n for s, n in seen if s == "Writing" and n > 0]
            assert partial, f"never saw text while it was being written: {seen}"
            final = len(page.locator("#variant-0").inner_text().strip())
            assert min(partial) < final, "the text did not grow while it was shown"
            shots(page, "generation-done")
            steps.append(f"watched the text arrive ({len(partial)} partial states seen)")

            # 6. The originality verdict sits under each variant.
            verdict = page.locator("#generation-status .originality").first
            expect(verdict).to_be_visible()
            assert verdict.get_attribute("data-verdict") in ("original", "similar", "paraphrase", "copy")
            verdict.scroll_into_view_if_needed()
            page.locator("#generation-status .card").first.screenshot(
                path=str(Path(os.environ.get("COPYWRITER_SCREENSHOTS") or tmp_path / "screenshots")
                         / "originality.png"), caret="initial")
            steps.append(f"saw the originality verdict ({verdict.get_attribute('data-verdict')})")

            # 7. SEO: analyse target keywords, enrich (a rewrite through the worker), accept it
            # into a new document. Without the SEO app, save the variant as it is.
            generated = page.locator("#variant-0").inner_text().strip()
            try:
                seo = _seo_enrich_and_accept(page, shots)
            except AssertionError as exc:
                log = (tmp_path / "worker.log").read_text()[-3000:]
                raise AssertionError(f"{exc}\n--- worker log ---\n{log}") from None
            if seo:
                steps.append(seo)
                expect(page.get_by_text("The rewrite was saved to a new document.")).to_be_visible()
            else:
                page.locator("#generation-status .card").first.get_by_role(
                    "button", name="Save to document").click()
                expect(page.get_by_text("Saved to a new document.")).to_be_visible()
            # 8. The document editor: edit the text, autosave makes version 2.
            editor = page.get_by_label("Text", exact=True)
            if not seo:
                assert editor.input_value().strip() == generated
            generated = editor.input_value()
            editor.press("Control+End")
            editor.press_sequentially("\nP.S. Ships free this week.", delay=10)
            expect(page.locator("#save-status")).to_contain_text("Saved version 2", timeout=15_000)
            doc_url = page.url
            shots(page, "editor")
            _mobile(browser, page, shots, "editor")
            steps.append("saved to a document and edited it (autosaved as version 2)")

            # 9. Invite a teammate; they sign up from the link, join, and see the document.
            page.get_by_role("link", name="Settings", exact=True).click()
            page.locator("#id_email").fill("sam@example.com")
            page.locator("#id_role").select_option("editor")
            page.get_by_role("button", name="Invite").click()
            expect(page.get_by_text("Invitation sent to sam@example.com.")).to_be_visible()
            invite_url = page.locator("code[id^=inv-]").first.inner_text().strip()
            shots(page, "members")
            teammate = browser.new_context(viewport=DESKTOP)
            sam = teammate.new_page()
            sam.goto(invite_url)
            expect(sam.get_by_role("heading", name="Join Fernway launch")).to_be_visible()
            sam.get_by_role("link", name="Create an account").click()
            sam.get_by_label("Your name").fill("Sam Ortiz")
            sam.get_by_label("Email").fill("sam@example.com")
            sam.get_by_label("Password").fill(PASSWORD)
            sam.get_by_role("button", name="Sign up").click()
            expect(sam.get_by_role("heading", name="Check your inbox")).to_be_visible()
            sam.goto(base + _signup_link("sam@example.com"))
            sam.get_by_role("button", name="Create my account").click()
            sam.get_by_role("button", name="Join workspace").click()
            expect(sam.get_by_text("You joined Fernway launch.")).to_be_visible()
            sam.get_by_role("link", name="Documents", exact=True).click()
            sam.locator("#document-results a").first.click()
            expect(sam.get_by_label("Text", exact=True)).to_have_value(re.compile("Ships free this week"))
            steps.append("invited a teammate who joined and saw the document")

            # 10. Restore the generated text (version 1) from History; the edit stays in history.
            page.goto(doc_url)
            page.get_by_role("link", name="History").click()
            shots(page, "history")
            page.get_by_role("link", name="View and compare").last.click()
            expect(page.locator(".diff .add")).to_contain_text("Ships free this week")
            shots(page, "version-diff")
            page.get_by_role("button", name="Restore this version").click()
            expect(page.get_by_label("Text", exact=True)).to_have_value(generated)
            page.get_by_role("link", name="History").click()
            expect(page.locator("tbody tr")).to_have_count(3)
            steps.append("restored version 1 (history now has 3 versions)")

            # 11. Review and approval: Sam (editor) asks Mara (owner) for a review; she comments
            # on a passage and requests changes; Sam fixes the text and asks again; Mara
            # approves and publishes.
            _add_cms_webhook(page, cms, shots)
            steps.append(_review_and_publish(page, sam, doc_url, shots))
            teammate.close()
            steps.append(_cms_heard_the_publication(page, cms, shots))

            # The other main pages, for the README.
            for name, path in (("generations", f"/w/{ws}/generations/"),
                               ("brand-voice", f"/w/{ws}/voices/"),
                               ("metrics", f"/w/{ws}/metrics/"),
                               ("bulk", f"/w/{ws}/bulk/")):
                if page.goto(f"{base}{path}").status == 200:
                    shots(page, name)
            assert not [e for e in errors if "Content Security Policy" in e], errors
            browser.close()
    finally:
        worker.stop()
        cms.close()
        report(f"browser journey: {len(steps)} steps in chromium ({'; '.join(steps)}); "
               f"{len(shots.taken)} screenshots")


def _add_cms_webhook(page, cms: WebhookReceiver, shots) -> None:
    """Mara (owner) points a webhook at the CMS for approvals and publications; the secret is
    shown once and the CMS keeps it to check signatures."""
    from playwright.sync_api import expect

    page.get_by_role("link", name="Webhooks", exact=True).click()
    page.get_by_label("Payload URL").fill(cms.url)
    page.locator("input[name=events][value='document.approved']").check()
    page.locator("input[name=events][value='document.published']").check()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#new-secret")).to_be_visible()
    cms.secret = page.locator("#new-secret").inner_text().strip()
    assert cms.secret.startswith("whsec_")
    shots(page, "webhook-added")


def _cms_heard_the_publication(page, cms: WebhookReceiver, shots) -> str:
    """The worker delivered the approval and the publication to the CMS, signed with the
    webhook's secret (the receiver checks the HMAC and the timestamp), and the webhook's page
    lists the deliveries."""
    from playwright.sync_api import expect

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and {
            r.json["event"] for r in cms.requests} < {"document.approved", "document.published"}:
        time.sleep(0.5)
    got = [(r.json["event"], r.verified, r.headers.get("X-Copywriter-Event")) for r in cms.requests]
    assert ("document.published", True, "document.published") in got, got
    assert ("document.approved", True, "document.approved") in got, got
    published = next(r.json for r in cms.requests if r.json["event"] == "document.published")
    assert "Fernway Ridge" in json.dumps(published["data"]), published
    page.get_by_role("link", name="Webhooks", exact=True).click()
    page.locator("table a").first.click()
    expect(page.locator("body")).to_contain_text("document.published")
    shots(page, "webhook-deliveries")
    return f"the CMS received {len(got)} signed webhook messages (approved, published), verified"


def _panel_state(page):
    return page.locator("#workflow-panel [data-state]")


def _review_and_publish(mara, sam, doc_url: str, shots) -> str:
    from playwright.sync_api import expect

    sam.goto(doc_url)
    expect(_panel_state(sam)).to_have_attribute("data-state", "draft")
    sam.get_by_role("checkbox", name=re.compile("Mara Quinn")).check()
    sam.get_by_label("Note for the reviewers").fill("Ready for launch copy review.")
    sam.get_by_role("button", name="Request review").click()
    expect(_panel_state(sam)).to_have_attribute("data-state", "in_review")
    shots(sam, "review-requested")

    mara.goto(doc_url)
    waiting = mara.get_by_role("link", name=re.compile("Waiting for me"))
    expect(waiting.locator(".badge")).to_have_text("1")
    waiting.click()
    expect(mara.locator("#waiting-list")).to_contain_text("Ready for launch copy review.")
    shots(mara, "waiting-for-me")
    mara.locator("#waiting-list a").first.click()
    expect(mara.locator("#approve-button")).to_be_visible()
    quote = mara.locator("#doc-body").evaluate(
        "(el) => { const t = el.value; const s = t.search(/\\S/);"
        " const e = Math.min(t.length, s + 24); el.focus(); el.setSelectionRange(s, e);"
        " el.dispatchEvent(new Event('select', {bubbles: true})); return t.substring(s, e); }")
    expect(mara.locator("[data-passage-preview]")).to_contain_text("Selected:")
    mara.locator("#comment-body").fill("Name the trail here, please.")
    mara.get_by_role("button", name="Comment on the selection").click()
    expect(mara.locator("#workflow-panel blockquote.quote")).to_contain_text(
        quote.strip().splitlines()[0])
    mara.locator("#decision-comment").fill("One change: see my note on the opening.")
    mara.get_by_role("button", name="Request changes").click()
    expect(_panel_state(mara)).to_have_attribute("data-state", "changes_requested")
    shots(mara, "review-changes-requested")

    sam.goto(doc_url)
    expect(_panel_state(sam)).to_have_attribute("data-state", "changes_requested")
    expect(sam.locator("#workflow-panel")).to_contain_text("Name the trail here, please.")
    editor = sam.get_by_label("Text", exact=True)
    version = int(re.search(r"Version (\d+)", sam.locator("#save-status").inner_text()).group(1))
    editor.press("Control+End")
    editor.press_sequentially("\nTested on the Fernway Ridge trail.", delay=10)
    expect(sam.locator("#save-status")).to_contain_text(f"Saved version {version + 1}",
                                                        timeout=15_000)
    sam.get_by_role("button", name="Request review").click()
    expect(_panel_state(sam)).to_have_attribute("data-state", "in_review")

    mara.goto(doc_url)
    expect(mara.get_by_label("Text", exact=True)).to_have_value(re.compile("Fernway Ridge"))
    mara.locator("#approve-button").click()
    expect(_panel_state(mara)).to_have_attribute("data-state", "approved")
    shots(mara, "review-approved")
    mara.locator("#publish-button").click()
    expect(_panel_state(mara)).to_have_attribute("data-state", "published")
    expect(mara.locator("#workflow-panel")).to_contain_text(f"Published: version {version + 1}")
    shots(mara, "published")
    return (f"review: requested, changes asked on a passage, fixed (version {version + 1}), "
            "re-requested, approved and published")


def _seo_enrich_and_accept(page, shots) -> str:
    """The SEO panel under the first variant (copywriter/seo): keywords, Analyse, Enrich, wait for
    the rewrite, Accept. Returns "" when this build has no SEO panel."""
    from playwright.sync_api import expect

    link = page.locator("#seo-variant-0").get_by_role("link", name="SEO keywords")
    if not link.count():
        return ""
    link.click()
    panel = page.locator("#seo-variant-0 section.seo-panel")
    expect(panel).to_be_visible()
    # "lifetime warranty" is in no field of the brief: the rewrite has something to weave in.
    panel.get_by_label("Target keywords").fill("waterproof hiking boots, lifetime warranty")
    panel.get_by_role("button", name="Analyse").click()
    expect(panel.locator("table.seo-table")).to_contain_text("waterproof hiking boots")
    shots(page, "seo-panel")
    panel = page.locator("#seo-variant-0 section.seo-panel")
    enrich = panel.get_by_role("button", name=re.compile("Enrich"))
    if not enrich.count():
        return "analysed keywords (every keyword already present: nothing to enrich)"
    enrich.click()
    card = page.locator(".seo-enrichment").first
    expect(card).to_be_visible()
    accept = card.get_by_role("button", name=re.compile("^Accept"))
    expect(accept).to_be_visible(timeout=600_000)  # a rewrite of 2 variants, checked for originality
    shots(page, "seo-enrichment")
    accept.click()
    return "ran SEO enrich and accepted the rewrite into a new document"
