"""URLs of the packaged app of stories/plugin_change.yml (a Python project of its own)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="e2e_packaged_app_index"),
]
