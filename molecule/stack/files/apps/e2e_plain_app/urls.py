"""URLs of the plain app folder of stories/plugin_change.yml (no packaging of its own)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="e2e_plain_app_index"),
    path("task/", views.task, name="e2e_plain_app_task"),
]
