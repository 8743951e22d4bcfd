from django.urls import include, path

urlpatterns = [
    path("accounts/", include("copywriter.accounts.urls")),
    path("", include("copywriter.workspaces.urls")),
    path("", include("copywriter.documents.urls")),
    path("", include("copywriter.catalog.urls")),
    path("", include("copywriter.generation.urls")),
    path("", include("copywriter.originality.urls")),
]
