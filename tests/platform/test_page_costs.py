"""What bench/web.py's profiling changed stays changed: no session write per page view, no full
document bodies in the list, one parse per template version, catalog URLs still right."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from copywriter.catalog.models import TemplateVersion
from copywriter.documents.services import document_create
from tests.support.cast import client_for


def test_viewing_workspace_pages_does_not_rewrite_the_session(cast, alice_client):
    url = reverse("documents:list", args=[cast.ws.pk])
    alice_client.get(url)  # the first view records the workspace in the session
    with CaptureQueriesContext(connection) as queries:
        assert alice_client.get(url).status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"] and q["sql"].startswith("UPDATE")]
    # Switching workspace still records the new one (the home page goes back to it).
    bob = client_for(cast.bob)
    bob.get(reverse("documents:list", args=[cast.ws.pk]))
    assert bob.session["workspace_id"] == cast.ws.pk


def test_document_list_reads_an_excerpt_not_the_whole_body(cast, alice_client):
    body = "Opening line of the plan. " + "filler " * 5000 + "THE SECRET ENDING"
    document_create(membership=cast.alice_m, title="Long plan", body=body)
    with CaptureQueriesContext(connection) as queries:
        html = alice_client.get(reverse("documents:list", args=[cast.ws.pk])).content.decode()
    assert "Opening line of the plan." in html and "THE SECRET ENDING" not in html
    listing = [q["sql"] for q in queries if "FROM \"documents_document\"" in q["sql"]]
    columns = [sql.split(" FROM ", 1)[0] for sql in listing]
    # The body appears only inside SUBSTRING(...), never as a column of its own.
    assert columns and all(c.count('"documents_document"."body"') == c.upper().count("SUBSTRING(")
                           for c in columns)
    assert any("SUBSTRING(" in c.upper() for c in columns)


def test_a_template_version_is_parsed_once_per_process(ad_template):
    first = TemplateVersion.objects.get(pk=ad_template.current_id).spec()
    again = TemplateVersion.objects.get(pk=ad_template.current_id).spec()
    assert again is first


def test_catalog_cards_and_favourite_buttons_link_to_their_own_template(cast, alice_client,
                                                                       builtin_templates):
    html = alice_client.get(reverse("catalog:index", args=[cast.ws.pk]),
                            {"q": "google search ad"}).content.decode()
    from copywriter.catalog.models import Template

    tpl = Template.objects.get(slug="google-search-ad", workspace=None)
    detail = reverse("catalog:detail", args=[cast.ws.pk, tpl.pk])
    fav = reverse("catalog:favourite", args=[cast.ws.pk, tpl.pk])
    assert f'<a href="{detail}">Google search ad</a>' in html
    assert f'action="{fav}" hx-post="{fav}"' in html
    # Every card's links name a template id that exists, in this workspace's URL space.
    ids = {int(i) for i in re.findall(rf"/w/{cast.ws.pk}/templates/(\d+)/", html)}
    assert ids and ids <= set(Template.objects.values_list("pk", flat=True))
    # The htmx answer to a favourite click is the same button, pointing at the same URL.
    part = alice_client.post(fav, HTTP_HX_REQUEST="true").content.decode()
    assert f'action="{fav}"' in part and 'aria-pressed="true"' in part
