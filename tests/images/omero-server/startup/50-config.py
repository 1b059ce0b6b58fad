#!/usr/bin/env python
"""Startup step 50: load /opt/omero/server/config/*.omero, then apply CONFIG_* variables.

The official image's contract: each *.omero file is loaded with `omero load` in name
order; then every CONFIG_omero_x_y=value variable becomes `omero config set omero.x.y
value`, a double underscore standing for a literal underscore (CONFIG_omero_db_host ->
omero.db.host, CONFIG_omero_web_server__list -> omero.web.server_list). Variables come
after the files, so they win. The result is omero-py's own config.xml in $OMERODIR.
"""

import glob
import os
import subprocess
import sys

OMERO = "/opt/omero/server/venv3/bin/omero"
CONFIG_DIR = "/opt/omero/server/config"


def property_name(variable):
    return "_".join(part.replace("_", ".") for part in variable[len("CONFIG_") :].split("__"))


def main():
    for path in sorted(glob.glob(os.path.join(CONFIG_DIR, "*.omero"))):
        print("Loading %s" % path, flush=True)
        rc = subprocess.call([OMERO, "load", path])
        if rc != 0:
            sys.exit("loading %s failed (rc %d)" % (path, rc))
    for name, value in sorted(os.environ.items()):
        if name.startswith("CONFIG_"):
            prop = property_name(name)
            print("Setting %s from %s" % (prop, name), flush=True)
            rc = subprocess.call([OMERO, "config", "set", "--", prop, value])
            if rc != 0:
                sys.exit("setting %s from %s failed (rc %d)" % (prop, name, rc))


if __name__ == "__main__":
    main()
