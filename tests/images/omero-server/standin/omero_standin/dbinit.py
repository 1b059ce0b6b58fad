"""Database step helper: create the stand-in's schema on an empty database.

Usage (from startup/60-database.sh, with the venv's Python):
    python -m omero_standin.dbinit
Environment: DBHOST, DBPORT (default 5432), DBNAME, DBUSER, DBPASS, ROOTPASS.
Prints "initialised" (schema created, root's password set from ROOTPASS) or
"existing" (schema found; root's password is left alone, as in the real image).
"""

import os
import sys

from .store import initialise


def main():
    params = {
        "host": os.environ["DBHOST"],
        "port": os.environ.get("DBPORT", "5432"),
        "name": os.environ["DBNAME"],
        "user": os.environ["DBUSER"],
        "password": os.environ["DBPASS"],
    }
    print(initialise(params, os.environ.get("ROOTPASS", "omero")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
