from django.urls import include, path

from copywriter.api import views
from copywriter.api.api import api

# The pages are the "api" namespace; the JSON API is ninja's own "v1" namespace, at the top
# level because ninja reverses its operation names there (for the OpenAPI schema).
pages = [
    path("w/<int:ws>/settings/api-tokens/", views.tokens, name="tokens"),
    path("w/<int:ws>/settings/api-tokens/<int:token_id>/revoke/", views.revoke, name="revoke"),
    path("api/v1/docs/", views.docs, name="docs"),
]

urlpatterns = [
    path("", include((pages, "api"))),
    path("api/v1/", api.urls),
]
