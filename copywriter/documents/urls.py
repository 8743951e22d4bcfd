from django.urls import path

from copywriter.documents import views

app_name = "documents"

urlpatterns = [
    path("w/<int:ws>/documents/", views.document_list, name="list"),
    path("w/<int:ws>/documents/new/", views.create, name="create"),
    path("w/<int:ws>/documents/trash/", views.trash, name="trash"),
    path("w/<int:ws>/documents/<int:document_id>/", views.edit, name="edit"),
    path("w/<int:ws>/documents/<int:document_id>/save/", views.save, name="save"),
    path("w/<int:ws>/documents/<int:document_id>/history/", views.history, name="history"),
    path("w/<int:ws>/documents/<int:document_id>/versions/<int:number>/", views.version,
         name="version"),
    path("w/<int:ws>/documents/<int:document_id>/versions/<int:number>/restore/", views.restore,
         name="restore"),
    path("w/<int:ws>/documents/<int:document_id>/export/<str:fmt>/", views.export, name="export"),
    path("w/<int:ws>/documents/<int:document_id>/trash/", views.trash_document, name="trash_doc"),
    path("w/<int:ws>/documents/<int:document_id>/untrash/", views.untrash, name="untrash"),
]
