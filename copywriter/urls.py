from django.conf import settings
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import URLPattern, URLResolver, include, path, re_path

from copywriter.generation import urls as generation_urls
from copywriter.voices import urls as voice_urls

# A database, cache or broker out of reach answers 503 + Retry-After instead of 500.
handler500 = "copywriter.core.unavailable.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("accounts/", include("copywriter.accounts.urls")),
    path("", include("copywriter.workspaces.urls")),
    path("", include("copywriter.documents.urls")),
    path("", include("copywriter.facts.urls")),
    path("", include("copywriter.catalog.urls")),
    # Brand voices have their own app but kept their URL names in generation's namespace.
    path("", include(([*generation_urls.urlpatterns, *voice_urls.urlpatterns],
                      generation_urls.app_name))),
    path("", include("copywriter.originality.urls")),
    path("", include("copywriter.seo.urls")),
    path("", include("copywriter.api.urls")),
    path("", include("copywriter.bulk.urls")),
    path("", include("copywriter.ops.urls")),
]
if settings.SERVE_STATIC:
    # `make run` has no nginx in front: gunicorn serves /static/ through the staticfiles finders.
    urlpatterns.append(re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}))
