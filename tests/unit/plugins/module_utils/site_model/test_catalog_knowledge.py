"""The catalog holds the knowledge of each service: no Python file under plugins/ names one.

A file "names" a service when a string literal of its code (not a docstring, not an
Ansible module's DOCUMENTATION/EXAMPLES/RETURN) holds the service name as a word
(``"redis"``, ``"http://omeroweb:4080/"``, ``omero_services.redis.enabled``), or when an
identifier is the name or starts or ends with it (``CADVISOR_MOUNTS``, ``def loki``).
The service names come from catalog.yml, so a new service is checked too.
"""

from __future__ import annotations

import ast
import re

import yaml

from tests.helpers.sites import REPO_ROOT

PLUGINS = REPO_ROOT / "plugins"
SITE_MODEL = "plugins/module_utils/site_model/"

# Files exempt from the check. module_utils/takeover.py reads the reference stack's compose
# file: the names it holds are that stack's services and its mapping to the site's paths,
# the knowledge of another installation, not of the collection's services.
EXEMPT_FILES = {"plugins/module_utils/takeover.py"}

# (file, service name): each names the service for a reason that is not knowledge of it.
EXCEPTIONS = {
    # The key `database` (a database name) of the catalog's database_role, not the service.
    (SITE_MODEL + "catalog_schema.py", "database"),
    (SITE_MODEL + "rotation.py", "database"),
    # The message on a database or role name (omero_site_db_name, ...), not the service.
    (SITE_MODEL + "site_settings.py", "database"),
    # OMERO.web's Python package (omeroweb.webclient, omeroweb.settings), not the service.
    ("plugins/module_utils/web_plugins.py", "omeroweb"),
    ("plugins/modules/omero_web_plugins.py", "omeroweb"),
}

_DOC_VARIABLES = {"DOCUMENTATION", "EXAMPLES", "RETURN"}


def _service_names():
    catalog = yaml.safe_load((REPO_ROOT / SITE_MODEL / "catalog.yml").read_text())
    return sorted(catalog["services"])


def _documentation(tree):
    """ids of the docstring nodes and of the module documentation strings."""
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in _DOC_VARIABLES
                                                for t in node.targets):
            docs.update(id(sub) for sub in ast.walk(node.value))
    return docs


def _identifier(node):
    for kind, attr in ((ast.Name, "id"), (ast.FunctionDef, "name"), (ast.ClassDef, "name"),
                       (ast.Attribute, "attr"), (ast.arg, "arg"), (ast.keyword, "arg")):
        if isinstance(node, kind):
            return getattr(node, attr)
    return None


def names_in(source, services):
    """``{service: example}`` of the services the Python ``source`` names."""
    tree = ast.parse(source)
    docs = _documentation(tree)
    found = {}
    words = dict((name, re.compile(r"(?<![\w-])%s(?![\w-])" % re.escape(name))) for name in services)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            found.update((name, node.value[:80]) for name in services if words[name].search(node.value))
        ident = (_identifier(node) or "").lower()
        for name in services:
            under = name.replace("-", "_")
            if ident and (ident == under or ident.startswith(under + "_") or ident.endswith("_" + under)):
                found[name] = ident
    return found


def test_the_check_finds_service_names():
    services = ["redis", "blackbox-exporter", "omeroweb"]
    assert set(names_in('x = "http://omeroweb:4080/"\ny = "blackbox-exporter:9115"', services)) == {
        "omeroweb", "blackbox-exporter"}
    assert set(names_in('if svc == "redis": pass', services)) == {"redis"}
    assert set(names_in("REDIS_MOUNTS = ()\ndef f(enabled_redis): pass", services)) == {"redis"}
    assert names_in('"""redis in a docstring"""\nx = "redis_url"\nDOCUMENTATION = "redis"', services) == {}


def test_no_python_file_under_plugins_names_a_catalog_service():
    services = _service_names()
    offenders, used = [], set()
    for path in sorted(PLUGINS.rglob("*.py")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        if rel in EXEMPT_FILES:
            continue
        for name, example in sorted(names_in(path.read_text(), services).items()):
            if (rel, name) in EXCEPTIONS:
                used.add((rel, name))
            else:
                offenders.append("%s names service %r (%r): put that knowledge in catalog.yml" % (rel, name, example))
    assert offenders == []
    assert EXCEPTIONS - used == set(), "exceptions that no longer apply: remove them"
