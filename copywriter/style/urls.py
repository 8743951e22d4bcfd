from django.urls import path

from copywriter.style import views

app_name = "style"

urlpatterns = [
    path("w/<int:ws>/style/", views.rules, name="rules"),
    path("w/<int:ws>/style/documents/<int:document_id>/", views.document_panel,
         name="document_panel"),
    path("w/<int:ws>/style/documents/<int:document_id>/fix/", views.document_fix,
         name="document_fix"),
    path("w/<int:ws>/style/generations/<int:generation_id>/variants/<int:index>/",
         views.variant_panel, name="variant_panel"),
    path("w/<int:ws>/style/generations/<int:generation_id>/variants/<int:index>/save/",
         views.variant_save, name="variant_save"),
]
