from django.urls import path

from copywriter.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("w/<int:ws>/webhooks/", views.webhook_list, name="list"),
    path("w/<int:ws>/webhooks/<int:webhook_id>/", views.detail, name="detail"),
    path("w/<int:ws>/webhooks/<int:webhook_id>/delete/", views.delete, name="delete"),
    path("w/<int:ws>/webhooks/<int:webhook_id>/rotate/", views.rotate, name="rotate"),
    path("w/<int:ws>/webhooks/<int:webhook_id>/test/", views.send_test, name="test"),
]
