# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Build contexts of the site's custom images, as data, tagged by content.

A catalog service with ``build`` is not run from its ``image``: that image is the
*base* of a site image built by the images stage. Its build context is

- the static files of ``files/images/<context>/`` in the collection (Dockerfile,
  scripts), read here on the controller;
- generated files: ``requirements.txt`` (pinned pip requirements: web plugins and
  their dependencies, OMERO CLI plugins), ``system-packages.txt``;
- files copied from the controller (plugin wheels), by digest;
- the build argument ``BASE_IMAGE``.

The tag is ``<base tag>-h<12 hex>`` where the hex is a SHA-256 of all of these, so
an unchanged site builds nothing, a changed plugin list gives a new tag (and so a new
compose definition for that service only), and the previous image stays on the host
for rollback. Extra CA certificates used only while building (``images_ca_certs``)
are deliberately not an input: rotating a proxy's CA must not rebuild and restart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import posixpath
import re

from ansible_collections.omero_docker.stack.plugins.module_utils.app_wheel import src_key, src_problem
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.external import provided
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.image_refs import image_reference
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import PluginError, parse_requirement

IMAGES_DIR = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "files", "images"))
BUILD_SCHEMA = 1
WHEELS_IN_IMAGE = "/opt/omero-stack/wheels"
_SKIP_RE = re.compile(r"(^|/)(__pycache__|\.pytest_cache)(/|$)|\.py[co]$|(^|/)README\.md$")
_PACKAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+._:~-]*$")


def context_files(context, root=None):
    """{relative path: text} of the static files of ``files/images/<context>``."""
    base = os.path.join(root or IMAGES_DIR, context)
    if not os.path.isdir(base):
        raise ValueError("the collection has no build context files/images/%s" % context)
    files = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, base).replace(os.sep, "/")
            if _SKIP_RE.search(rel):
                continue
            with open(path) as handle:
                files[rel] = {"content": handle.read(), "mode": "0755" if os.access(path, os.X_OK) else "0644"}
    return files


def _digest(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def image_tag(base_tag, digest):
    """``<base tag>-h<12 hex>``, shortened to Docker's 128 characters."""
    suffix = "-h" + digest[:12]
    return (base_tag or "build")[:128 - len(suffix)] + suffix


def build_spec(service, build, *, base_ref, base_tag, generated, copies, context_dir, root=None):
    """The build of one image: files, copies, args, hash and tag (pure, deterministic)."""
    files = context_files(build["context"], root)
    if build.get("pip"):
        files.update(("common/" + rel, f) for rel, f in context_files("_common", root).items())
    for rel, content in generated.items():
        files[rel] = {"content": content, "mode": "0644"}
    args = {"BASE_IMAGE": base_ref}
    digest = _digest({
        "schema": BUILD_SCHEMA,
        "files": files,
        "copies": dict((c["dest"], c["sha256"]) for c in copies),
        "args": args,
    })
    tag = image_tag(base_tag, digest)
    return {
        "service": service,
        "context": build["context"],
        "repository": build["repository"],
        "tag": tag,
        "reference": "%s:%s" % (build["repository"], tag),
        "base": base_ref,
        "context_dir": context_dir,
        "files": [{"path": rel, "content": files[rel]["content"], "mode": files[rel]["mode"]} for rel in sorted(files)],
        "copies": list(copies),
        # Absolute paths on the host: every directory of the context (ca/ and wheels/
        # always exist, even empty) and every file that belongs there (not ca/).
        "directories": [context_dir] + [posixpath.join(context_dir, d) for d in sorted(
            set(posixpath.dirname(p) for p in list(files) + [c["dest"] for c in copies]) - {""} | {"ca", "wheels"})],
        "expected_files": sorted(posixpath.join(context_dir, p) for p in list(files) + [c["dest"] for c in copies]),
        "build_args": args,
        "hash": digest,
    }


def requirement_problem(spec):
    """Why ``spec`` is not a pinned pip requirement, or None."""
    try:
        parse_requirement(spec)
    except PluginError as exc:
        return str(exc)
    return None


def _lines(items):
    return "".join("%s\n" % item for item in items)


def is_wheel_file(spec):
    """A pip requirement naming a wheel file (not a URL), which the action plugin looks
    for on the controller and the site image gets copied in."""
    return isinstance(spec, str) and spec.endswith(".whl") and "://" not in spec


def wheel_copy(spec, local_files):
    """A wheel requirement given as a controller file: (in-image path, copy entry) or None."""
    if not is_wheel_file(spec) or spec not in local_files:
        return None
    return _wheel_in_image(local_files[spec])


def _wheel_in_image(info):
    """A wheel found on the controller (``{path, sha256}``): its in-image path and copy entry."""
    base = posixpath.basename(info["path"])
    return posixpath.join(WHEELS_IN_IMAGE, base), {"src": info["path"], "dest": "wheels/" + base,
                                                   "sha256": info["sha256"]}


def app_copy(plugin, local_files):
    """A plugin given as a folder (``src``), packaged (module_utils/app_wheel.py) or built
    (module_utils/project_wheel.py) as a wheel on the controller: (in-image path, copy entry,
    its pinned requirements) or None."""
    info = local_files.get(src_key(plugin.get("src"))) if isinstance(plugin, dict) else None
    if not info or info.get("problem") or not info.get("path"):
        return None
    return _wheel_in_image(info) + (list(info.get("requires") or []),)


# Keys of an omero_web_plugins entry that the image holds otherwise (or not at all).
_SITE_ONLY_KEYS = ("requires", "secret_settings", "src", "version", "env", "secret_env", "mounts", "worker")


def web_requirements(plugins, extra, local_files):
    """requirements.txt lines, copies, and the plugin list as the image holds it."""
    lines, copies, in_image = [], [], []
    for plugin in plugins:
        entry = dict((k, v) for k, v in plugin.items() if k not in _SITE_ONLY_KEYS)
        pip = plugin.get("pip")
        wheel = wheel_copy(pip, local_files)
        app = app_copy(plugin, local_files)
        if wheel:
            entry["pip"], copy_entry = wheel
            copies.append(copy_entry)
        elif app:
            entry["pip"], copy_entry, pins = app
            copies.append(copy_entry)
            lines.extend(pins)
        if entry.get("pip"):
            lines.append(entry["pip"])
        lines.extend(plugin.get("requires") or [])
        in_image.append(entry)
    lines.extend(extra)
    return _lines(lines), copies, in_image


def server_files(cli_plugins, system_packages, local_files):
    lines, copies = [], []
    for spec in cli_plugins:
        wheel = wheel_copy(spec, local_files)
        if wheel:
            copies.append(wheel[1])
        lines.append(wheel[0] if wheel else spec)
    return {"requirements.txt": _lines(lines), "system-packages.txt": _lines(system_packages)}, copies


def package_problem(name):
    if not isinstance(name, str) or not _PACKAGE_RE.match(name):
        return "'%s' is not a package name" % (name,)
    return None


def _local_file(spec, local_files, var, errors):
    """A wheel given by path must have been found on the controller (action plugin)."""
    if is_wheel_file(spec) and spec not in local_files:
        errors.append((var, "wheel file '%s' was not found on the controller (looked in the playbook's files/ "
                            "directories and as a path): put it there or give NAME==VERSION" % spec))
        return False
    return True


def _app_folder(plugin, local_files, var, errors):
    """A plugin's ``src`` (a plain app folder or a Python project): well formed, found and
    packaged or built on the controller."""
    if "src" not in plugin:
        if plugin.get("version") is not None:
            errors.append((var + ".version", "is the version of a plugin given as a folder: only with src"))
        return
    problem = src_problem(plugin["src"])
    if problem:
        errors.append((var + ".src", problem))
        return
    if plugin.get("pip") is not None:
        errors.append((var + ".src", "give either pip (a distribution) or src (a folder), not both"))
        return
    info = local_files.get(src_key(plugin["src"]))
    if info is None:
        errors.append((var + ".src", "app folder '%s' was not found on the controller (looked in the playbook's "
                                     "files/ directories and as a path)" % src_key(plugin["src"])))
    elif info.get("problem"):
        errors.append((var + ".src", "cannot be packaged: %s" % info["problem"]))


def validate_inputs(site, plugins, local_files, errors):
    """Pins of CLI plugins, plugin dependencies and package names (errors name the variable)."""
    cli = site.get("omero_server_cli_plugins") or []
    for i, spec in enumerate(cli):
        var = "omero_server_cli_plugins[%d]" % i
        if _local_file(spec, local_files, var, errors):
            wheel = wheel_copy(spec, local_files)
            problem = requirement_problem(wheel[0] if wheel else spec)
            if problem:
                errors.append((var, problem))
    for i, name in enumerate(site.get("omero_server_system_packages") or []):
        problem = package_problem(name)
        if problem:
            errors.append(("omero_server_system_packages[%d]" % i, problem))
    for i, plugin in enumerate(plugins):
        if not isinstance(plugin, dict):
            continue
        var = "omero_web_plugins[%d]" % i
        _local_file(plugin.get("pip"), local_files, var + ".pip", errors)
        _app_folder(plugin, local_files, var, errors)
        requires = plugin.get("requires")
        if requires is not None and not isinstance(requires, list):
            errors.append((var + ".requires", "must be a list of pinned requirements (NAME==VERSION)"))
            continue
        for j, spec in enumerate(requires or []):
            problem = requirement_problem(spec)
            if problem:
                errors.append(("%s.requires[%d]" % (var, j), problem))


def _web_pins(plugins, local_files):
    """(variable, requirement) of every pip line of the web plugins, where it comes from."""
    out = []
    for i, plugin in enumerate(plugins):
        if not isinstance(plugin, dict):
            continue
        var = "omero_web_plugins[%d]" % i
        app = app_copy(plugin, local_files)
        # a folder's requirements.txt, and a project's dependencies (their markers left out here)
        out += [(var + ".src (its pinned requirements)", pin.split(";", 1)[0].strip())
                for pin in (app[2] if app else [])]
        if isinstance(plugin.get("pip"), str):
            out.append((var + ".pip", plugin["pip"]))
        if isinstance(plugin.get("requires"), list):
            out += [("%s.requires[%d]" % (var, j), spec) for j, spec in enumerate(plugin["requires"])]
    return out


def pin_conflicts(services, site, local_files, errors):
    """Two pins of one distribution in the web image (pip would fail the build): refused, naming both."""
    plugins = site.get("omero_web_plugins") if isinstance(site.get("omero_web_plugins"), list) else []
    builds = [svc["build"] for name, svc in sorted(services.items()) if svc.get("enabled")
              and (svc.get("build") or {}).get("inputs") == "web_plugins"]
    extra = [("the web image's own requirement with %s" % dep, r) for build in builds[:1]
             for dep, reqs in sorted((build.get("requirements_with") or {}).items())
             if dep in provided(services) for r in reqs]
    seen = {}
    for var, spec in extra + _web_pins(plugins, local_files):
        try:
            req = parse_requirement(spec)
        except PluginError:
            continue  # reported where the requirement is checked
        if req["kind"] != "pypi":
            continue
        first = seen.setdefault(req["name"], (var, req["version"]))
        if first[1] != req["version"]:
            errors.append((var, "%s conflicts with %s==%s of %s: the web image holds one version of each "
                                "distribution" % (spec, req["name"], first[1], first[0])))


def _web_plugin_inputs(build, provided_services, site, local_files):
    """requirements.txt of the site's web plugins (and of ``requirements_with``), copies."""
    extra = [r for dep, reqs in sorted((build.get("requirements_with") or {}).items()) if dep in provided_services
             for r in reqs]
    text, copies, dummy = web_requirements(site.get("omero_web_plugins") or [], extra, local_files)
    return {"requirements.txt": text}, copies


def _server_plugin_inputs(build, enabled, site, local_files):
    """requirements.txt of the OMERO CLI plugins and system-packages.txt, copies."""
    del build, enabled
    return server_files(site.get("omero_server_cli_plugins") or [], site.get("omero_server_system_packages") or [],
                        local_files)


# Catalog ``build.inputs`` -> the generated files (and controller copies) of the context.
BUILD_INPUTS = {"web_plugins": _web_plugin_inputs, "server_plugins": _server_plugin_inputs}


def site_images(services, enabled, settings, site, local_files):
    """Build specs of the enabled services with a site image; sets their run image."""
    specs = {}
    mirror = settings["omero_site_registry_mirror"]
    for name in enabled:
        svc = services[name]
        build = svc.get("build")
        if not build or svc.get("image_of"):
            continue
        generated, copies = {}, []
        if build.get("inputs"):
            # requirements_with follows the services the site has, external ones too.
            generated, copies = BUILD_INPUTS[build["inputs"]](build, provided(services), site, local_files)
        spec = build_spec(name, build, base_ref=image_reference(svc["image"], mirror),
                          base_tag=svc["image"]["tag"], generated=generated, copies=copies,
                          context_dir=posixpath.join(settings["omero_site_base_dir"], "build", name))
        svc["run_image"] = spec["reference"]
        specs[name] = spec
    # Copies of a service (read_only.py) run its site image, built once.
    for name in enabled:
        if services[name].get("image_of") in specs:
            services[name]["run_image"] = specs[services[name]["image_of"]]["reference"]
    return specs
