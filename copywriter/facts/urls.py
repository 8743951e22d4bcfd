from django.urls import path

from copywriter.facts import views

app_name = "facts"

urlpatterns = [
    path("w/<int:ws>/facts/", views.sheet_list, name="list"),
    path("w/<int:ws>/facts/new/", views.create, name="create"),
    path("w/<int:ws>/facts/suggest/", views.suggest, name="suggest"),
    path("w/<int:ws>/facts/<int:sheet_id>/", views.edit, name="edit"),
    path("w/<int:ws>/facts/<int:sheet_id>/versions/<int:number>/", views.version, name="version"),
    path("w/<int:ws>/facts/<int:sheet_id>/archive/", views.archive, name="archive"),
]
