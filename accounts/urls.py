"""Pages of the `accounts` namespace, under /accounts/ beside allauth's."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("avatar/", views.avatar, name="avatar"),
    path("export/", views.export_request, name="export"),
    path("exports/", views.exports_status, name="exports"),
    path("export/<uuid:export_id>/download/", views.export_download, name="export_download"),
    path("delete/", views.account_delete, name="delete"),
]
