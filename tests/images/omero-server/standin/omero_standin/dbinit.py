"""Database step helper: create the stand-in's schema on an empty database.

Usage (from startup/60-database.sh, with the venv's Python):
    python -m omero_standin.dbinit
Environment: DBHOST, DBPORT (default 5432), DBNAME, DBUSER, DBPASS, ROOTPASS, and
DB_READ_ONLY=true for a read-only server (omero.cluster.read_only.db).
Prints "initialised" (schema created, root's password set from ROOTPASS),
"existing" (schema found; root's password is left alone, as in the real image) or, on a
read-only server, "missing" (no schema: the read-write server has not created it).
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
        "read_only": os.environ.get("DB_READ_ONLY") == "true",
    }
    print(initialise(params, os.environ.get("ROOTPASS", "omero")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
