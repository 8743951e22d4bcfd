from django.urls import path

from copywriter.originality import views

app_name = "originality"

urlpatterns = [
    path("w/<int:ws>/documents/<int:document_id>/originality/", views.document_check, name="check"),
    path("w/<int:ws>/originality/checks/<int:check_id>/", views.check_detail, name="check_detail"),
    path("w/<int:ws>/originality/references/", views.references, name="references"),
    path("w/<int:ws>/originality/references/<int:reference_id>/", views.reference, name="reference"),
    path("w/<int:ws>/originality/references/<int:reference_id>/delete/", views.reference_delete,
         name="reference_delete"),
    path("w/<int:ws>/originality/settings/", views.settings_view, name="settings"),
]
