"""The view answers with a value of the project's pinned dependency (so the story sees it
installed from the wheel's Requires-Dist)."""

from django.http import HttpResponse
from slugify import slugify


def index(request):
    return HttpResponse("e2e packaged app: %s" % slugify("Hello World"), content_type="text/plain")
