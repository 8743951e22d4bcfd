from django.urls import include, path

urlpatterns = [
    path("accounts/", include("copywriter.accounts.urls")),
    path("", include("copywriter.workspaces.urls")),
    path("", include("copywriter.documents.urls")),
    path("", include("copywriter.catalog.urls")),
    path("", include("copywriter.generation.urls")),
    path("", include("copywriter.originality.urls")),
    path("", include("copywriter.seo.urls")),
    path("", include("copywriter.api.urls")),
    path("", include("copywriter.bulk.urls")),
    path("", include("copywriter.ops.urls")),
]
