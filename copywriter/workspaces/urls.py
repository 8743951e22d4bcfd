from django.urls import path

from copywriter.workspaces import views

app_name = "workspaces"

urlpatterns = [
    path("", views.home, name="home"),
    path("w/new/", views.create, name="create"),
    path("w/<int:ws>/members/", views.members, name="members"),
    path("w/<int:ws>/members/invite/", views.invite, name="invite"),
    path("w/<int:ws>/members/invitations/<int:invitation_id>/revoke/", views.revoke, name="revoke"),
    path("w/<int:ws>/members/<int:member_id>/role/", views.set_role, name="set_role"),
    path("w/<int:ws>/members/<int:member_id>/remove/", views.remove, name="remove"),
    path("w/<int:ws>/leave/", views.leave, name="leave"),
    path("w/<int:ws>/settings/", views.settings_view, name="settings"),
    path("invite/<str:token>/", views.accept, name="accept"),
]
