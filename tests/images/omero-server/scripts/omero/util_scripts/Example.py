#!/usr/bin/env python
"""Example script shipped by the OMERO.server stand-in image (an "official" script).

Written for the stand-in; it is never run (the stand-in has no script processor).
"""

from omero import scripts
from omero.rtypes import rstring


def run():
    client = scripts.client(
        "Example.py",
        "Says hello: an official script of the OMERO.server stand-in.",
        scripts.String("Name", optional=True, default="world"),
        version="1.0.0",
        authors=["omero_docker.stack"],
    )
    try:
        name = client.getInput("Name", unwrap=True) or "world"
        client.setOutput("Message", rstring("Hello, %s" % name))
    finally:
        client.closeSession()


if __name__ == "__main__":
    run()
