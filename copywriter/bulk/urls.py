from django.urls import path

from copywriter.bulk import views

app_name = "bulk"

urlpatterns = [
    path("w/<int:ws>/bulk/", views.runs, name="list"),
    path("w/<int:ws>/bulk/new/", views.upload, name="upload"),
    path("w/<int:ws>/bulk/<int:run_id>/", views.run_detail, name="run"),
    path("w/<int:ws>/bulk/<int:run_id>/mapping/", views.mapping, name="mapping"),
    path("w/<int:ws>/bulk/<int:run_id>/pause/", views.pause, name="pause"),
    path("w/<int:ws>/bulk/<int:run_id>/resume/", views.resume, name="resume"),
    path("w/<int:ws>/bulk/<int:run_id>/cancel/", views.cancel, name="cancel"),
    path("w/<int:ws>/bulk/<int:run_id>/download/<str:fmt>/", views.download, name="download"),
    path("w/<int:ws>/bulk/<int:run_id>/rows/<int:index>/edit/", views.row_edit, name="row_edit"),
    path("w/<int:ws>/bulk/<int:run_id>/rows/<int:index>/regenerate/", views.row_regenerate,
         name="row_regenerate"),
]
