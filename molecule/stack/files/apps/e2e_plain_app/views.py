"""The view answers with a value of its pinned requirement, so the story sees it installed."""

import humanize
from django.http import HttpResponse


def index(request):
    return HttpResponse("e2e plain app: %s" % humanize.naturalsize(1000000), content_type="text/plain")
