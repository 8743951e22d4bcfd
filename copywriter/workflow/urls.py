from django.urls import path

from copywriter.workflow import views

app_name = "workflow"

_doc = "w/<int:ws>/documents/<int:document_id>/workflow/"

urlpatterns = [
    path(_doc, views.panel, name="panel"),
    path(_doc + "request-review/", views.request_review, name="request_review"),
    path(_doc + "approve/", views.approve, name="approve"),
    path(_doc + "request-changes/", views.request_changes, name="request_changes"),
    path(_doc + "publish/", views.publish, name="publish"),
    path(_doc + "comments/", views.comment_create, name="comment_create"),
    path(_doc + "comments/<int:comment_id>/resolve/", views.comment_resolve,
         name="comment_resolve"),
    path(_doc + "versions/<int:number>/comments/", views.version_comments,
         name="version_comments"),
    path(_doc + "versions/<int:number>/export/<str:fmt>/", views.export_version,
         name="export_version"),
    path("w/<int:ws>/documents/released.zip", views.export_released, name="export_released"),
    path("w/<int:ws>/waiting/", views.waiting, name="waiting"),
    path("w/<int:ws>/waiting/count/", views.waiting_count, name="waiting_count"),
    path("w/<int:ws>/settings/workflow/", views.settings_page, name="settings"),
    path("account/notifications/", views.notifications, name="notifications"),
]
