"""The OMERO.server path of the site model (issue 11): what the server, OMERO.web and the
images they run on need to start and keep working on a real host (no Ansible run)."""

# ruff: noqa: S105 - test data: fake secrets

from __future__ import annotations

import json

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import TEST_SECRETS, base_site, merged

SCRIPTS_DIR = "/opt/omero/server/OMERO.server/lib/scripts"


def _build(site, **kwargs):
    return build_site_model(site, site.get("omero_secrets"), **kwargs)


def _site(**overlay):
    return merged(base_site(), overlay, "/x")


def _ops(model, component):
    return {o["property"]: o["value"] for o in model["omero"][component]}


def _errors(site):
    with pytest.raises(SiteModelError) as info:
        _build(site)
    return dict(info.value.errors)


# ---- defect 1: the database settings travel as CONFIG_* environment -------------------


def test_server_gets_database_settings_as_environment():
    model = _build(_site(omero_site_db_user="omero_lab", omero_site_db_name="omero_lab_db"))
    env = next(e for e in model["env_files"] if e["service"] == "omeroserver")
    assert env["env"]["CONFIG_omero_db_host"] == "database"
    assert env["env"]["CONFIG_omero_db_user"] == "omero_lab"
    assert env["env"]["CONFIG_omero_db_name"] == "omero_lab_db"
    # The password as a secret file the site image turns into the variable (secrets-env.sh).
    assert env["secret_env"] == {}
    assert {"source": "omeroserver_CONFIG_omero_db_pass", "target": "CONFIG_omero_db_pass"} in (
        model["compose"]["services"]["omeroserver"]["secrets"])
    # One place only: the rendered *.omero file no longer carries them.
    server = _ops(model, "server")
    assert not {"omero.db.host", "omero.db.user", "omero.db.name"} & set(server)
    assert server["omero.data.dir"] == "/OMERO"


# ---- defect 3: the owners of OMERO's writable directories come from the image ---------


def test_catalog_names_the_image_accounts():
    services = load_catalog()["services"]
    assert services["omeroweb"]["image_user"] == "omero-web"
    assert services["omeroserver"]["image_user"] == "omero-server"


def test_model_asks_for_the_image_accounts_of_enabled_services():
    model = _build(base_site())
    lookups = {u["service"]: u for u in model["image_users"]}
    assert set(lookups) == {"omeroweb", "omeroserver"}
    web = lookups["omeroweb"]
    # A built service: its base image has the same account as the site image.
    assert web["image"] == model["services"]["omeroweb"]["base_image"]
    assert web["user"] == "omero-web" and web["resolved"] is False


def test_image_ids_own_the_service_directories():
    model = _build(base_site(), image_ids={"omeroweb": {"uid": 999, "gid": 998},
                                           "omeroserver": {"uid": 1001, "gid": 1002}})
    dirs = {d["purpose"]: d for d in model["directories"]}
    assert (dirs["omero_web_logs"]["owner"], dirs["omero_web_logs"]["group"]) == (999, 998)
    assert (dirs["omero_server_logs"]["owner"], dirs["omero_server_logs"]["group"]) == (1001, 1002)
    assert (model["services"]["omeroweb"]["uid"], model["services"]["omeroweb"]["gid"]) == (999, 998)
    assert all(u["resolved"] for u in model["image_users"])
    # Owners are not an input of the containers: no recreation because of a lookup.
    assert model["service_hashes"] == _build(base_site())["service_hashes"]


def test_explicit_uid_wins_over_the_image():
    site = _site(omero_services={"omeroweb": {"uid": 4000, "gid": 4001}})
    model = _build(site, image_ids={"omeroweb": {"uid": 999, "gid": 998}})
    dirs = {d["purpose"]: d for d in model["directories"]}
    assert (dirs["omero_web_logs"]["owner"], dirs["omero_web_logs"]["group"]) == (4000, 4001)
    assert "omeroweb" not in {u["service"] for u in model["image_users"]}


def test_disabled_services_are_not_looked_up():
    model = _build(_site(omero_services={"omeroweb": {"enabled": False}}))
    assert {u["service"] for u in model["image_users"]} == {"omeroserver"}


@pytest.mark.parametrize("ids", [{"omeroweb": {"uid": "nine", "gid": 998}}, {"omeroweb": 5}, {"omeroweb": {"uid": 1}},
                                 {"redis": {"uid": 1, "gid": 1}}, ["omeroweb"]])
def test_bad_image_ids_are_refused(ids):
    with pytest.raises(SiteModelError, match="image_ids"):
        _build(base_site(), image_ids=ids)


# ---- defect 4: clients stay on the published SSL port ---------------------------------


def test_router_insecure_points_at_the_published_ssl_port():
    server = _ops(_build(base_site()), "server")
    assert server["omero.router.insecure"] == "OMERO.Glacier2/router:ssl -p 4064 -h @omero.host@"
    remapped = _build(_site(omero_services={"omeroserver": {"ports": {"ssl": {"host": 14064}}}}))
    assert _ops(remapped, "server")["omero.router.insecure"] == "OMERO.Glacier2/router:ssl -p 14064 -h @omero.host@"
    # OMERO.web reaches the server inside the network on the container port: it must not
    # follow the router to the host port, so it stays on its SSL connection.
    assert _ops(remapped, "web")["omero.web.secure"] == "true"


def test_no_router_setting_when_4063_is_published():
    model = _build(_site(omero_services={"omeroserver": {"ports": {"tcp": {"publish": True}}}}))
    assert "omero.router.insecure" not in _ops(model, "server")
    assert "omero.web.secure" not in _ops(model, "web")


# ---- defect 5 (and 10): site scripts live on the host, one directory per folder -------


SCRIPTS = [
    {"name": "/facility/Measure.py", "content": "# a\n"},
    {"name": "/facility/sub/Other.py", "src": "files/Other.py"},
    {"name": "/omero/lab/Lab.py", "url": "https://example.org/Lab.py", "checksum": "sha256:00"},
    {"name": "/omero/figure_scripts/*", "pip": "omero-scripts==5.10.0"},
]


def test_script_folders_are_mounted_from_the_host():
    model = _build(_site(omero_scripts=SCRIPTS, omero_script_folders=["/imports"]))
    assert model["omero"]["script_folders"] == ["/facility", "/imports", "/omero/lab"]
    mounts = {v["target"]: v for v in model["compose"]["services"]["omeroserver"]["volumes"]}
    base = model["paths"]["omero_scripts"]
    assert base == model["site"]["base_dir"] + "/data/scripts"
    for folder in ("/facility", "/imports", "/omero/lab"):
        mount = mounts[SCRIPTS_DIR + folder]
        assert mount["source"] == base + folder and not mount["read_only"]
    assert SCRIPTS_DIR + "/facility/sub" not in mounts  # inside /facility already
    dirs = {d["path"]: d for d in model["directories"]}
    for path in (base + "/facility", base + "/omero", base + "/omero/lab"):
        assert (dirs[path]["owner"], dirs[path]["group"], dirs[path]["mode"]) == (1000, 1000, "0750")


def test_script_folders_follow_the_server_uid():
    model = _build(_site(omero_scripts=SCRIPTS[:1]), image_ids={"omeroserver": {"uid": 1001, "gid": 1002}})
    dirs = {d["path"]: d for d in model["directories"]}
    folder = dirs[model["paths"]["omero_scripts"] + "/facility"]
    assert (folder["owner"], folder["group"]) == (1001, 1002)


def test_no_scripts_no_mounts():
    model = _build(base_site())
    assert model["omero"]["script_folders"] == []
    targets = [v["target"] for v in model["compose"]["services"]["omeroserver"]["volumes"]]
    assert not [t for t in targets if t.startswith(SCRIPTS_DIR)]


@pytest.mark.parametrize(("scripts", "folders", "variable", "words"), [
    ([{"name": "/facility/Measure", "content": "#"}], [], "omero_scripts[0].name", ".py"),
    ([{"name": "facility/Measure.py", "content": "#"}], [], "omero_scripts[0].name", "start with '/'"),
    ([{"name": "/facility//Measure.py", "content": "#"}], [], "omero_scripts[0].name", "normalised"),
    ([{"name": "/Measure.py", "content": "#"}], [], "omero_scripts[0].name", "folder"),
    ([{"name": "/omero/Measure.py", "content": "#"}], [], "omero_scripts[0].name", "official"),
    ([{"name": "/omero/util_scripts/Measure.py", "content": "#"}], [], "omero_scripts[0].name", "official"),
    ([], ["/omero/figure_scripts"], "omero_script_folders[0]", "official"),
    ([], ["omero_lab"], "omero_script_folders[0]", "start with '/'"),
    ([], "/facility", "omero_script_folders", "list"),
])
def test_bad_script_names_and_folders(scripts, folders, variable, words):
    errors = _errors(_site(omero_scripts=scripts, omero_script_folders=folders))
    assert variable in errors, errors
    assert words in errors[variable]


def test_official_patterns_need_no_py_suffix():
    model = _build(_site(omero_scripts=[{"name": "*", "pip": "omero-scripts==5.10.0"}]))
    assert model["omero"]["script_folders"] == []


# ---- defects 6 and 7: users and groups OMERO accepts ----------------------------------


@pytest.mark.parametrize(("overlay", "variable", "words"), [
    ({"omero_users": [{"name": "alice", "password": "x" * 16}]}, "omero_users[0].groups", "default group 'user'"),
    ({"omero_groups": [{"name": "lab"}], "omero_users": [{"name": "bob", "groups": ["user", "system"]}]},
     "omero_users[0].groups", "omero_users[0].groups"),
    ({"omero_groups": [{"name": "lab"}],
      "omero_users": [{"name": "carol", "groups": ["lab"], "default_group": "user"}]},
     "omero_users[0].default_group", "user"),
    ({"omero_groups": [{"name": "user"}]}, "omero_groups[0].name", "built into OMERO"),
    ({"omero_groups": [{"name": "system"}]}, "omero_groups[0].name", "built into OMERO"),
    ({"omero_groups": [{"name": "guest"}]}, "omero_groups[0].name", "built into OMERO"),
    ({"omero_groups": [{"name": "lab", "permissions": "rwx---"}]}, "omero_groups[0].permissions", "read-annotate"),
    ({"omero_groups": [{"name": "lab", "permissions": "public"}]}, "omero_groups[0].permissions", "private"),
])
def test_users_and_groups_omero_refuses(overlay, variable, words):
    errors = _errors(_site(**overlay))
    assert variable in errors, errors
    assert words in errors[variable]


def test_users_and_groups_omero_accepts():
    model = _build(_site(
        omero_groups=[{"name": "lab"}, {"name": "ro", "permissions": "read-only"},
                      {"name": "rw", "permissions": "rwrw--"}],
        omero_users=[
            {"name": "alice", "groups": ["lab"]},
            {"name": "bob", "groups": ["user"], "default_group": "ro"},
            {"name": "admin2", "full_admin": True},
            {"name": "jobs", "admin_privileges": ["Sudo"]},
        ],
    ))
    # No default permission: "private when created, unchanged otherwise" is the module's.
    assert "permissions" not in model["bootstrap"]["groups"][0]
    assert [u["name"] for u in model["bootstrap"]["users"]] == ["alice", "bob", "admin2", "jobs"]


# ---- defect 8: OMERO.web's own viewer unless a plugin or the site chooses one ----------


def test_webclient_viewer_by_default():
    assert _ops(_build(base_site()), "web")["omero.web.viewer.view"] == "omeroweb.webclient.views.image_viewer"


def test_a_plugin_or_the_site_chooses_the_viewer():
    iviewer = {"name": "omero-iviewer", "pip": "omero-iviewer==0.19.1", "app": "omero_iviewer",
               "settings": {"omero.web.viewer.view": "omero_iviewer.views.index"}}
    model = _build(_site(omero_web_plugins=[iviewer]))
    assert "omero.web.viewer.view" not in _ops(model, "web")  # 20-plugins.omero sets it
    model = _build(_site(omero_web_config={"omero.web.viewer.view": "my_viewer.views.index"}))
    assert [o for o in model["omero"]["web"] if o["property"] == "omero.web.viewer.view"] == [
        {"op": "set", "property": "omero.web.viewer.view", "value": "my_viewer.views.index"}]


# ---- defect 10: smaller ones -----------------------------------------------------------


@pytest.mark.parametrize(("overlay", "variable"), [
    ({"omero_server_config": {"omero.policy.banner": "line one\nline two"}},
     "omero_server_config['omero.policy.banner']"),
    ({"omero_web_config": {"omero.web.login_logo": "a\rb"}}, "omero_web_config['omero.web.login_logo']"),
    ({"omero_web_plugins": [{"name": "p", "app": "p_app", "settings": {"omero.web.p_app.text": "a\nb"}}]},
     "omero_web_plugins[0].settings['omero.web.p_app.text']"),
])
def test_values_with_a_newline_are_refused(overlay, variable):
    errors = _errors(_site(**overlay))
    assert variable in errors, errors
    assert "newline" in errors[variable]


def test_omero_web_reads_mail_and_qa_settings():
    model = _build(_site(omero_web_config={"omero.mail.host": "smtp.example.org", "omero.mail.port": 587,
                                           "omero.qa.feedback": "https://qa.example.org"}))
    web = _ops(model, "web")
    assert web["omero.mail.host"] == "smtp.example.org" and web["omero.qa.feedback"] == "https://qa.example.org"


def test_server_has_nofile_ulimits():
    server = _build(base_site())["compose"]["services"]["omeroserver"]
    assert server["ulimits"] == {"nofile": {"soft": 8192, "hard": 65536}}


@pytest.mark.parametrize(("memory", "expected"), [
    (None, {"omero.jvmcfg.strategy": "percent", "omero.jvmcfg.system_memory": "4096"}),
    ("2g", {"omero.jvmcfg.strategy": "percent", "omero.jvmcfg.system_memory": "2048",
            "omero.jvmcfg.min_system_memory": "2048"}),
    ("6144m", {"omero.jvmcfg.strategy": "percent", "omero.jvmcfg.system_memory": "6144"}),
    ("64g", {"omero.jvmcfg.strategy": "percent", "omero.jvmcfg.system_memory": "65536",
             "omero.jvmcfg.max_system_memory": "65536"}),
])
def test_jvm_heaps_follow_the_memory_limit(memory, expected):
    site = _site(omero_services={"omeroserver": {"resources": {"memory": memory}}}) if memory else base_site()
    server = _ops(_build(site), "server")
    assert {k: v for k, v in server.items() if k.startswith("omero.jvmcfg.")} == expected


def test_site_jvmcfg_wins():
    model = _build(_site(omero_server_config={"omero.jvmcfg.system_memory": 3000,
                                              "omero.jvmcfg.heap_size.blitz": "2g"}))
    ops = [o for o in model["omero"]["server"] if o["property"].startswith("omero.jvmcfg.")]
    assert [o for o in ops if o["property"] == "omero.jvmcfg.system_memory"] == [
        {"op": "set", "property": "omero.jvmcfg.system_memory", "value": "3000"}]


# ---- defect 9: secrets applied only at first initialisation ---------------------------


def _changed(before, after):
    return {n for n in before["service_hashes"] if before["service_hashes"][n] != after["service_hashes"][n]}


def test_root_password_is_not_in_the_recreate_hash():
    before = _build(base_site())
    site = base_site()
    site["omero_secrets"]["omero_root_password"] = "another-root-password-0042"
    after = _build(site)
    assert _changed(before, after) == set()
    files = {(f["service"], f["secret"]): f["path"] for f in after["secret_files"]}
    assert files[("omeroserver", "omero_root_password")].endswith("/ROOTPASS")  # still written


def test_database_password_recreates_its_consumers_not_the_database():
    before = _build(base_site())
    site = base_site()
    site["omero_secrets"]["omero_db_password"] = "another-db-password-000042"
    after = _build(site)
    assert _changed(before, after) == {"omeroserver", "pg-maintenance", "postgres-exporter"}
    assert ("database", "omero_db_password") in {(f["service"], f["secret"]) for f in after["secret_files"]}
    site["omero_secrets"]["plugin_db_password"] = "another-plugin-password-0042"
    assert _changed(after, _build(site)) == {"postgres-exporter-plugin"}


def test_database_roles_for_rotation():
    model = _build(_site(omero_site_db_user="omero_lab"))
    assert model["databases"] == {
        "database": {"service": "database", "user": "omero_lab", "database": "omero", "secret": "omero_db_password"},
        "database_plugin": {"service": "database_plugin", "user": "omero_plugin", "database": "omero_plugin",
                            "secret": "plugin_db_password"},
    }
    init_only = {(i["service"], i["secret"]) for i in model["init_only_secrets"]}
    assert init_only == {("omeroserver", "omero_root_password"), ("database", "omero_db_password"),
                         ("database_plugin", "plugin_db_password")}


# ---- defect 11 (part): pg-maintenance reads its password from a secret file -------------


def test_pg_maintenance_password_from_a_secret_file():
    model = _build(base_site())
    env = next(e for e in model["env_files"] if e["service"] == "pg-maintenance")
    assert env["secret_env"] == {}
    assert "PGPASSWORD" not in env["env"]
    assert env["env"]["PGPASSWORD_FILE"] == "/run/secrets/omero_db_password"
    files = {(f["service"], f["secret"]): f for f in model["secret_files"]}
    assert files[("pg-maintenance", "omero_db_password")]["owner"] == 999
    secrets = model["compose"]["services"]["pg-maintenance"]["secrets"]
    assert secrets == [{"source": "pg_maintenance_omero_db_password", "target": "omero_db_password"}]
    assert TEST_SECRETS["omero_db_password"] not in json.dumps(model)
