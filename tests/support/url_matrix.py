"""Every URL the resolver knows, classified: public, login only, or in a workspace with the
method and role it needs (tests/security/test_isolation.py fails on a URL missing here), and the
URL of each for the objects of tests/fixtures/isolation.py."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver, reverse

PUBLIC = {
    "api:docs",
    "accounts:signup", "accounts:signup_confirm", "accounts:login", "accounts:logout",
    "accounts:password_reset",
    "accounts:password_reset_done", "accounts:password_reset_confirm",
    "accounts:password_reset_complete", "workspaces:accept",
    "ops:healthz", "ops:bench_trivial",
}
LOGIN_ONLY = {"accounts:password_change", "accounts:password_change_done", "workspaces:home",
              "workspaces:create", "ops:global_metrics", "workflow:notifications"}
# name -> (method, role needed for that method)
WORKSPACE_URLS = {
    "workspaces:members": ("GET", "viewer"),
    "workspaces:invite": ("POST", "owner"),
    "workspaces:revoke": ("POST", "owner"),
    "workspaces:set_role": ("POST", "owner"),
    "workspaces:remove": ("POST", "owner"),
    "workspaces:leave": ("POST", "viewer"),
    "workspaces:settings": ("POST", "owner"),
    "audit:activity": ("GET", "owner"),  # the activity log: owners only, like the settings
    "audit:export": ("GET", "owner"),
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
    "facts:list": ("GET", "viewer"),
    "facts:create": ("POST", "editor"),
    "facts:suggest": ("GET", "viewer"),
    "facts:edit": ("POST", "editor"),
    "facts:version": ("GET", "viewer"),
    "facts:archive": ("POST", "editor"),
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
    "generation:export_search_ads": ("GET", "viewer"),
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
    "api:tokens": ("POST", "editor"),
    "api:revoke": ("POST", "owner"),  # the token is Alice's: editors revoke only their own
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
    "seo:document_panel": ("GET", "viewer"),  # analysis reads only: viewers may use it
    "seo:document_suggest": ("GET", "viewer"),
    "seo:document_keywords": ("POST", "editor"),
    "seo:document_enrich": ("POST", "editor"),
    "seo:variant_panel": ("GET", "viewer"),
    "seo:variant_suggest": ("GET", "viewer"),
    "seo:variant_enrich": ("POST", "editor"),
    "seo:enrichment": ("GET", "viewer"),
    "seo:accept": ("POST", "editor"),
    "seo:reject": ("POST", "editor"),
    "seo:lists": ("POST", "editor"),
    "seo:list_delete": ("POST", "editor"),
    "webhooks:list": ("POST", "owner"),
    "webhooks:detail": ("GET", "owner"),  # a target URL and its log are the owners' business
    "webhooks:delete": ("POST", "owner"),
    "webhooks:rotate": ("POST", "owner"),
    "webhooks:test": ("POST", "owner"),
    "style:rules": ("POST", "owner"),  # members read the rules (GET); owners change them
    "style:document_panel": ("GET", "viewer"),
    "style:document_fix": ("POST", "editor"),
    "style:variant_panel": ("GET", "viewer"),
    "style:variant_save": ("POST", "editor"),
    "workflow:panel": ("GET", "viewer"),
    "workflow:request_review": ("POST", "editor"),
    "workflow:approve": ("POST", "owner"),  # owners approve unless the workspace names reviewers
    "workflow:request_changes": ("POST", "owner"),
    "workflow:publish": ("POST", "editor"),
    "workflow:comment_create": ("POST", "editor"),
    "workflow:comment_resolve": ("POST", "editor"),
    "workflow:version_comments": ("GET", "viewer"),
    "workflow:export_version": ("GET", "viewer"),
    "workflow:waiting": ("GET", "viewer"),
    "workflow:export_released": ("GET", "viewer"),
    "workflow:waiting_count": ("GET", "viewer"),
    "workflow:settings": ("POST", "owner"),
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
        "facts:edit": [ws, o["sheet"].pk], "facts:version": [ws, o["sheet"].pk, 1],
        "facts:archive": [ws, o["sheet"].pk],
        "catalog:detail": [ws, o["template"].pk], "catalog:favourite": [ws, o["template"].pk],
        "catalog:edit": [ws, o["own_template"].pk], "catalog:delete": [ws, o["own_template"].pk],
        "generation:detail": [ws, g], "generation:retry": [ws, g], "generation:cancel": [ws, g],
        "generation:export_search_ads": [ws, g],
        "generation:rate": [ws, g, 0], "generation:save": [ws, g, 0],
        "generation:voice": [ws, o["voice"].pk], "generation:voice_cancel": [ws, o["voice"].pk],
        "generation:voice_delete": [ws, o["voice"].pk],
        "originality:check": [ws, d], "originality:check_detail": [ws, o["check"].pk],
        "originality:reference": [ws, o["ref"].pk],
        "originality:reference_delete": [ws, o["ref"].pk],
        "api:revoke": [ws, o["token"].pk],
        "bulk:run": [ws, o["bulk"].pk], "bulk:mapping": [ws, o["bulk"].pk],
        "bulk:pause": [ws, o["bulk"].pk], "bulk:resume": [ws, o["bulk"].pk],
        "bulk:cancel": [ws, o["bulk"].pk], "bulk:download": [ws, o["bulk"].pk, "csv"],
        "bulk:row_edit": [ws, o["bulk"].pk, 1], "bulk:row_regenerate": [ws, o["bulk"].pk, 1],
        "seo:document_panel": [ws, d], "seo:document_suggest": [ws, d],
        "seo:document_keywords": [ws, d], "seo:document_enrich": [ws, d],
        "seo:variant_panel": [ws, g, 0], "seo:variant_suggest": [ws, g, 0],
        "seo:variant_enrich": [ws, g, 0], "seo:enrichment": [ws, o["enrichment"].pk],
        "seo:accept": [ws, o["enrichment"].pk], "seo:reject": [ws, o["enrichment"].pk],
        "seo:list_delete": [ws, o["keyword_list"].pk],
        "webhooks:detail": [ws, o["webhook"].pk], "webhooks:delete": [ws, o["webhook"].pk],
        "webhooks:rotate": [ws, o["webhook"].pk], "webhooks:test": [ws, o["webhook"].pk],
        "style:document_panel": [ws, d], "style:document_fix": [ws, d],
        "style:variant_panel": [ws, g, 0], "style:variant_save": [ws, g, 0],
        "workflow:panel": [ws, d], "workflow:request_review": [ws, d], "workflow:approve": [ws, d],
        "workflow:request_changes": [ws, d], "workflow:publish": [ws, d],
        "workflow:comment_create": [ws, d],
        "workflow:comment_resolve": [ws, d, o["comment"].pk],
        "workflow:version_comments": [ws, d, 1], "workflow:export_version": [ws, d, 1, "md"],
    }.get(name, [ws])
    return reverse(name, args=args)
