"""The views answer with a value of the pinned requirement (so the story sees it installed)
and with a task's result from the plugin's worker, through Redis."""

import humanize
from django.http import HttpResponse


def index(request):
    return HttpResponse("e2e plain app: %s" % humanize.naturalsize(1000000), content_type="text/plain")


def task(request):
    from .tasks import add  # noqa: PLC0415 - Celery's app reads the broker's address when it is imported

    return HttpResponse("task: %s" % add.delay(2, 3).get(timeout=60), content_type="text/plain")
