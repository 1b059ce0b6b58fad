#!/usr/bin/env python
"""Load /opt/omero/web/config/*.omero, then apply CONFIG_* environment variables.

Same contract as the official image: CONFIG_omero_web_public_enabled=true sets
omero.web.public.enabled; a double underscore stands for a literal underscore
(CONFIG_omero_web_server__list -> omero.web.server_list). Variables are applied after
the files, so they win.
"""

import os
import subprocess
import sys

OMERO = "/opt/omero/web/venv3/bin/omero"


def property_name(variable):
    return "_".join(part.replace("_", ".") for part in variable[len("CONFIG_") :].split("__"))


def main():
    rc = subprocess.call([OMERO, "load", "--glob", "/opt/omero/web/config/*.omero"])
    if rc != 0:
        sys.exit("loading /opt/omero/web/config/*.omero failed (rc %d)" % rc)
    for name, value in sorted(os.environ.items()):
        if name.startswith("CONFIG_"):
            rc = subprocess.call([OMERO, "config", "set", "--", property_name(name), value])
            if rc != 0:
                sys.exit("setting %s from %s failed (rc %d)" % (property_name(name), name, rc))


if __name__ == "__main__":
    main()
