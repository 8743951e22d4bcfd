from django.conf import settings
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import URLPattern, URLResolver, include, path, re_path

# A database, cache or broker out of reach answers 503 + Retry-After instead of 500.
handler500 = "copywriter.core.unavailable.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("accounts/", include("copywriter.accounts.urls")),
    path("", include("copywriter.workspaces.urls")),
    path("", include("copywriter.documents.urls")),
    path("", include("copywriter.facts.urls")),
    path("", include("copywriter.catalog.urls")),
    path("", include("copywriter.generation.urls")),
    path("", include("copywriter.originality.urls")),
    path("", include("copywriter.seo.urls")),
    path("", include("copywriter.api.urls")),
    path("", include("copywriter.bulk.urls")),
    path("", include("copywriter.ops.urls")),
]
if settings.SERVE_STATIC:
    # `make run` has no nginx in front: gunicorn serves /static/ through the staticfiles finders.
    urlpatterns.append(re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}))
