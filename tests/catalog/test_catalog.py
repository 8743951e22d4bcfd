from __future__ import annotations

import yaml
from django.urls import reverse

from copywriter.catalog.models import Template
from copywriter.generation.models import Generation


def test_catalog_lists_counts_and_searches_as_you_type(alice_client, cast, builtin_templates):
    url = reverse("catalog:index", args=[cast.ws.pk])
    page = alice_client.get(url).content.decode()
    total = Template.objects.filter(workspace__isnull=True, is_active=True).count()
    assert f"Templates <span class=\"muted small\">{total} in" in page
    assert "ads (20)" in page  # counts per category
    partial = alice_client.get(url, {"q": "google search"}, HTTP_HX_REQUEST="true",
                               HTTP_HX_TARGET="template-results").content.decode()
    assert "<html" not in partial and "Google search ad" in partial
    assert "Product description" not in partial
    by_tag = alice_client.get(url, {"q": "ppc"}, HTTP_HX_REQUEST="true",
                              HTTP_HX_TARGET="template-results").content.decode()
    assert "Google search ad" in by_tag  # tags are searched too
    cat = alice_client.get(url, {"category": "pr"}, HTTP_HX_REQUEST="true",
                           HTTP_HX_TARGET="template-results").content.decode()
    assert "Press release" in cat and "Google search ad" not in cat
    none = alice_client.get(url, {"q": "qwertyuiop"}).content.decode()
    assert "No template matches" in none


def test_favourites_and_recently_used(alice_client, cast, builtin_templates):
    tpl = Template.objects.get(slug="google-search-ad", workspace__isnull=True)
    alice_client.post(reverse("catalog:favourite", args=[cast.ws.pk, tpl.pk]))
    favs = alice_client.get(reverse("catalog:index", args=[cast.ws.pk]), {"favourites": "1"}).content.decode()
    assert "Google search ad" in favs and "Press release" not in favs
    Generation.objects.create(workspace=cast.ws, created_by=cast.alice, template=tpl,
                              template_version=tpl.current, fields={}, prompt="p", tone="neutral")
    page = alice_client.get(reverse("catalog:index", args=[cast.ws.pk])).content.decode()
    assert "Recently used" in page


def test_detail_shows_fields_with_limits_and_sample_output(alice_client, cast, ad_template):
    html = alice_client.get(reverse("catalog:detail", args=[cast.ws.pk, ad_template.pk])).content.decode()
    assert 'maxlength="120"' in html and "Sample output" in html
    assert "Brightpath Online Maths Tutor" in html


def test_duplicate_builtin_edit_and_delete_a_workspace_template(bob_client, cast, ad_template, charlie_client):
    new_url = reverse("catalog:new", args=[cast.ws.pk])
    form = bob_client.get(new_url, {"from": ad_template.pk}).content.decode()
    assert "google-search-ad-copy" in form
    data = {**ad_template.current.data, "id": "acme-ad", "title": "Acme ad"}
    response = bob_client.post(new_url, {"yaml": yaml.safe_dump(data)})
    own = Template.objects.get(slug="acme-ad")
    assert response.status_code == 302 and own.workspace_id == cast.ws.pk
    # edit: a new version, the old one kept for generations that used it
    first_version = own.current_id
    data["title"] = "Acme ad v2"
    bob_client.post(reverse("catalog:edit", args=[cast.ws.pk, own.pk]), {"yaml": yaml.safe_dump(data)})
    own.refresh_from_db()
    assert own.title == "Acme ad v2" and own.current_id != first_version and own.versions.count() == 2
    # invisible to another workspace
    other = charlie_client.get(reverse("catalog:index", args=[cast.other.pk]), {"q": "acme"}).content.decode()
    assert "Acme ad" not in other
    assert charlie_client.get(reverse("catalog:detail", args=[cast.other.pk, own.pk])).status_code == 404
    bob_client.post(reverse("catalog:delete", args=[cast.ws.pk, own.pk]))
    assert bob_client.get(reverse("catalog:detail", args=[cast.ws.pk, own.pk])).status_code == 404


def test_invalid_workspace_template_shows_every_error_and_keeps_the_text(bob_client, cast, ad_template):
    data = {**ad_template.current.data, "id": "acme-ad",
            "prompt": "Write about {{ product }} and {{ colour }}."}
    text = yaml.safe_dump(data)
    response = bob_client.post(reverse("catalog:new", args=[cast.ws.pk]), {"yaml": text})
    html = response.content.decode()
    assert response.status_code == 400
    assert "undeclared placeholders [&#x27;colour&#x27;]" in html
    assert "declared fields unused by the prompt" in html
    assert "{{ colour }}" in html  # the YAML the user wrote is still in the editor
    assert not Template.objects.filter(slug="acme-ad").exists()
    broken = bob_client.post(reverse("catalog:new", args=[cast.ws.pk]), {"yaml": "id: [unclosed"})
    assert broken.status_code == 400 and "YAML error" in broken.content.decode()


def test_builtin_templates_cannot_be_edited_or_deleted(bob_client, cast, ad_template):
    assert bob_client.get(reverse("catalog:edit", args=[cast.ws.pk, ad_template.pk])).status_code == 404
    assert bob_client.post(reverse("catalog:delete", args=[cast.ws.pk, ad_template.pk])).status_code == 403


def test_title_matches_rank_first(alice_client, cast, builtin_templates):
    from copywriter.catalog.selectors import template_search

    results = list(template_search(workspace_id=cast.ws.pk, q="email"))
    titles = [t.title.lower() for t in results]
    first_non_title = next(i for i, t in enumerate(titles) if "email" not in t)
    assert all("email" not in t for t in titles[first_non_title:])
    assert first_non_title >= 10
