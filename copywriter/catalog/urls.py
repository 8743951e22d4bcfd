from django.urls import path

from copywriter.catalog import views

app_name = "catalog"

# A template's own page (catalog:detail) holds the generate form: generation serves it
# (generation.urls.template_urlpatterns).
urlpatterns = [
    path("w/<int:ws>/templates/", views.index, name="index"),
    path("w/<int:ws>/templates/<int:template_id>/favourite/", views.favourite, name="favourite"),
    path("w/<int:ws>/templates/new/", views.template_edit, name="new"),
    path("w/<int:ws>/templates/<int:template_id>/edit/", views.template_edit, name="edit"),
    path("w/<int:ws>/templates/<int:template_id>/delete/", views.template_delete, name="delete"),
]
