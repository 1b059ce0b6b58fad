# A site script for the end-to-end scenario: registered by omero_bootstrap under
# /facility/, kept in the host directory mounted at lib/scripts/facility.
from omero import scripts
from omero.rtypes import rstring

client = scripts.client(
    "E2E_Hello.py",
    "Says hello (omero_docker.stack end-to-end test).",
    scripts.String("Name", optional=True, default="world"),
)
try:
    name = client.getInput("Name", unwrap=True) or "world"
    client.setOutput("Message", rstring("hello %s" % name))
finally:
    client.closeSession()
