#!/bin/sh
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
#
# Usage (in a site image's Dockerfile): pip-install.sh VENV REQUIREMENTS
# Installs the pinned requirements of the site image into the image's virtualenv, then
# fails the build when `pip check` finds broken dependencies. Extra CA certificates in
# /tmp/omero-stack/ca/*.crt (the images role's images_ca_certs, for sites behind a
# TLS-inspecting proxy) are added to pip's CA bundle for this build only; they are not
# an input of the image's tag.
set -eu
venv="$1"
requirements="$2"
if ! grep -q '[^[:space:]]' "$requirements"; then
    echo "pip-install: no requirements"
    exit 0
fi
if ls /tmp/omero-stack/ca/*.crt >/dev/null 2>&1; then
    bundle=/tmp/omero-stack/ca/bundle.pem
    base="${PIP_CERT:-$("$venv/bin/python" -c 'import pip._vendor.certifi as c; print(c.where())')}"
    cat "$base" /tmp/omero-stack/ca/*.crt >"$bundle"
    PIP_CERT="$bundle"
    export PIP_CERT
fi
"$venv/bin/python" -m pip install --no-cache-dir --disable-pip-version-check --no-input -r "$requirements"
"$venv/bin/python" -m pip check
