"""A Python project folder holding an OMERO.web app (a plugin WITH packaging), for the tests
of module_utils/project_wheel.py and of the site model's app folders."""

from __future__ import annotations

PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "%(backend)s"

[project]
name = "omp-packaged"
version = "1.2.0"
dependencies = [%(deps)s]

[project.optional-dependencies]
dev = ["pytest>=8"]

[tool.setuptools]
packages = ["omp_packaged"]

[tool.setuptools.package-data]
omp_packaged = ["templates/omp_packaged/*.html"]
"""
DEPS = ('"python-slugify==8.0.4"', "\"tomli==2.0.1; python_version < '3.11'\"")


def project(root, deps=DEPS, backend="setuptools.build_meta", requirements=None):
    """A setuptools project with the app package, a template and pinned dependencies."""
    (root / "omp_packaged" / "templates" / "omp_packaged").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT % {"backend": backend, "deps": ", ".join(deps)})
    (root / "omp_packaged" / "__init__.py").write_text("")
    (root / "omp_packaged" / "urls.py").write_text("urlpatterns = []\n")
    (root / "omp_packaged" / "templates" / "omp_packaged" / "index.html").write_text("<p>omp</p>\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    return root
