from django.urls import path

from copywriter.audit import views

app_name = "audit"

urlpatterns = [
    path("w/<int:ws>/activity/", views.activity, name="activity"),
    path("w/<int:ws>/activity/export.csv", views.export, name="export"),
]
