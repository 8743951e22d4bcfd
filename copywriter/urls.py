from django.conf import settings
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import URLPattern, URLResolver, include, path, re_path

from copywriter.catalog import urls as catalog_urls
from copywriter.generation import urls as generation_urls
from copywriter.voices import urls as voice_urls

# A database, cache or broker out of reach answers 503 + Retry-After instead of 500.
handler500 = "copywriter.core.unavailable.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("accounts/", include("copywriter.accounts.urls")),
    path("", include("copywriter.workspaces.urls")),
    path("", include("copywriter.audit.urls")),
    path("", include("copywriter.documents.urls")),
    path("", include("copywriter.facts.urls")),
    # Two namespaces take patterns from two apps, so no URL name changed when code moved: a
    # template's page (catalog:detail) is generation's form, brand voices have their own app.
    path("", include(([*catalog_urls.urlpatterns, *generation_urls.template_urlpatterns],
                      catalog_urls.app_name))),
    path("", include(([*generation_urls.urlpatterns, *voice_urls.urlpatterns],
                      generation_urls.app_name))),
    path("", include("copywriter.originality.urls")),
    path("", include("copywriter.seo.urls")),
    path("", include("copywriter.style.urls")),
    path("", include("copywriter.workflow.urls")),
    path("", include("copywriter.api.urls")),
    path("", include("copywriter.bulk.urls")),
    path("", include("copywriter.ops.urls")),
    path("", include("copywriter.webhooks.urls")),
]
if settings.SERVE_STATIC:
    # `make run` has no nginx in front: gunicorn serves /static/ through the staticfiles finders.
    urlpatterns.append(re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}))
