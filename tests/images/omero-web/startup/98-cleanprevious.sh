#!/usr/bin/env bash
# A container stopped uncleanly leaves OMERO.web's pid file behind; it would block start.
set -eu
rm -f /opt/omero/web/OMERO.web/var/django.pid
