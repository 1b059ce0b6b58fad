#!/usr/bin/env python
"""Second "official" script of the OMERO.server stand-in image (never run)."""

from omero import scripts
from omero.rtypes import rlong


def run():
    client = scripts.client(
        "Count_Inputs.py",
        "Counts the IDs it is given.",
        scripts.List("IDs", optional=False).ofType(rlong(0)),
        version="1.0.0",
        authors=["omero_docker.stack"],
    )
    try:
        ids = client.getInput("IDs", unwrap=True) or []
        client.setOutput("Count", rlong(len(ids)))
    finally:
        client.closeSession()


if __name__ == "__main__":
    run()
