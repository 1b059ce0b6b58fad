"""A reference installation ("OMERO Docker Extended", its repository at 20c4728c) as files:
the shape of its install directory (docker-compose.yml, .env, env/*.env) with the values a
site gives, for the takeover's tests (module_utils/takeover.py, roles/takeover)."""

from __future__ import annotations

from pathlib import Path

import yaml

STRONG = {
    "OMERO_DB_PASS": "ref-db-pass-5f0c2a9e7b1d4c3a",
    "OMP_PLUGIN_DB_PASS": "ref-plugin-pass-8e2d6b4f1a9c7e5d",
    "ROOTPASS": "ref-root-pass-3c7a1e9f5b2d8c4e",
    "OMERO_JOB_SERVICE_PASS": "ref-job-pass-9a4e2c7f1d5b3e8a",
    "GF_SECURITY_ADMIN_PASSWORD": "ref-grafana-pass-2b8d4f6a1c9e7d3b",
}
WEB_SECRET_KEY = "ref-django-key-" + "7" * 70


def _pg_health(port):
    """The reference's PostgreSQL healthcheck: over TCP, so not healthy while initdb runs."""
    return {"test": ["CMD-SHELL", 'pg_isready -U "$$POSTGRES_USER" -d "$$POSTGRES_DB" -h 127.0.0.1 -p %d' % port],
            "interval": "2s", "timeout": "10s", "retries": 60}


def compose(images=None):
    """The reference's docker-compose.yml, reduced to what the takeover reads and the
    stand-in runs (the services and their settings of its commit 20c4728c)."""
    images = dict({"postgres": "postgres:16.12", "omeroserver": "omeroserver:custom",
                   "omeroweb": "omeroweb:custom", "redis": "redis:8.4.0-alpine"}, **(images or {}))
    tz = {"TZ": "Europe/Zurich", "PGTZ": "Europe/Zurich"}
    return {
        "services": {
            "database": {
                "image": images["postgres"], "restart": "unless-stopped", "env_file": ["./env/omero_secrets.env"],
                "environment": dict({"POSTGRES_USER": "omero", "POSTGRES_DB": "omero",
                                     "POSTGRES_PASSWORD": "${OMERO_DB_PASS}",
                                     "PGDATA": "/var/lib/postgresql/data/pgdata"}, **tz),
                "networks": {"omero": {"aliases": ["database"]}},
                "volumes": ["${OMERO_DATABASE_PATH:?set it}:/var/lib/postgresql/data:rw"],
                "healthcheck": _pg_health(5432),
            },
            "database_plugin": {
                "image": images["postgres"], "restart": "unless-stopped", "env_file": ["./env/omero_secrets.env"],
                "environment": dict({"POSTGRES_USER": "omero-plugin", "POSTGRES_DB": "omero-plugin",
                                     "POSTGRES_PASSWORD": "${OMP_PLUGIN_DB_PASS}",
                                     "PGDATA": "/var/lib/postgresql/data/pgdata", "PGPORT": "5433"}, **tz),
                "networks": {"omero": {"aliases": ["database-plugin"]}},
                "volumes": ["${OMERO_PLUGIN_DATABASE_PATH:?set it}:/var/lib/postgresql/data:rw"],
                "healthcheck": _pg_health(5433),
            },
            "omeroserver": {
                "image": images["omeroserver"], "restart": "unless-stopped", "hostname": "omeroserver",
                "env_file": ["./env/omeroserver.env", "./env/omero_secrets.env", "./env/omero-celery.env"],
                "environment": {"CONFIG_omero_db_pass": "${OMERO_DB_PASS}"},
                "ports": ["4064:4064"], "ulimits": {"nofile": {"soft": 15000, "hard": 15000}},
                "networks": {"omero": {"aliases": ["omeroserver"]}},
                "volumes": ["${OMERO_USER_DATA_PATH:?set it}:/OMERO:rw",
                            "${OMERO_SERVER_VAR_PATH:?set it}:/opt/omero/server/OMERO.server/var:rw",
                            "${OMERO_SERVER_LOGS_PATH:?set it}:/opt/omero/server/OMERO.server/var/log:rw"],
            },
            "omeroweb": {
                "image": images["omeroweb"], "restart": "unless-stopped", "ports": ["4090:4090"],
                "env_file": ["./env/omeroweb.env", "./env/omeroserver.env", "./env/omero_secrets.env",
                             "./env/omero-celery.env"],
                "networks": {"omero": {"aliases": ["omeroweb"]}},
                "volumes": ["${OMERO_USER_DATA_PATH:?set it}:/OMERO:rw",
                            "${OMERO_WEB_VAR_PATH:?set it}:/opt/omero/web/OMERO.web/var:rw",
                            "${OMERO_WEB_LOGS_PATH:?set it}:/opt/omero/web/OMERO.web/var/log:rw"],
            },
            "redis": {"image": images["redis"], "restart": "unless-stopped",
                      "command": "redis-server --save '' --appendonly no",
                      "networks": {"omero": {"aliases": ["redis"]}}},
            "portainer": {"image": "portainer/portainer-ce:2.39.0-alpine", "container_name": "portainer"},
        },
        "networks": {"omero": {}},
    }


def files(install_dir="/opt/omero", secrets=None):
    """{relative path: text} of the install directory (and OMERO.web's Django secret key)."""
    secrets = dict(STRONG, **(secrets or {}))
    data = install_dir + "/omero_data"
    paths = {
        "OMERO_INSTALLATION_PATH": install_dir,
        "OMERO_DATABASE_PATH": install_dir + "/postgresdb/omero_database",
        "OMERO_PLUGIN_DATABASE_PATH": install_dir + "/postgresdb/plugin_database",
        "OMERO_DATA_PATH": data,
    }
    for var, name in (("OMERO_USER_DATA_PATH", "omero_user_data"), ("OMERO_UPLOAD_PATH", "omero_upload"),
                      ("OMERO_SERVER_VAR_PATH", "omero_server_var"), ("OMERO_SERVER_LOGS_PATH", "omero_server_logs"),
                      ("OMERO_WEB_VAR_PATH", "omero_web_var"), ("OMERO_WEB_LOGS_PATH", "omero_web_logs"),
                      ("OMERO_WEB_SUPERVISOR_LOGS_PATH", "omero_web_supervisor_logs"),
                      ("PORTAINER_DATA_PATH", "portainer_data"), ("PROMETHEUS_DATA_PATH", "prometheus_data"),
                      ("GRAFANA_DATA_PATH", "grafana_data"), ("LOKI_DATA_PATH", "loki_data"),
                      ("PG_MAINTENANCE_DATA_PATH", "pg_maintenance_data"),
                      ("NODE_EXPORTER_TEXTFILE_PATH", "node_exporter_textfile")):
        paths[var] = "%s/%s" % (data, name)
    dotenv = ["COMPOSE_ENV_FILES=installation_paths.env:env/omero_secrets.env"]
    dotenv += ["%s=%s" % kv for kv in paths.items()]
    dotenv += ["OMERO_DB_PASS=%s" % secrets["OMERO_DB_PASS"], "OMP_PLUGIN_DB_PASS=%s" % secrets["OMP_PLUGIN_DB_PASS"]]
    omero_secrets = ["# secrets", "OMERO_DB_PASS=%s" % secrets["OMERO_DB_PASS"],
                     "OMP_PLUGIN_DB_PASS=%s" % secrets["OMP_PLUGIN_DB_PASS"],
                     "OMP_DATA_PASS=%s" % secrets["OMP_PLUGIN_DB_PASS"], "ROOTPASS=%s" % secrets["ROOTPASS"],
                     "OMERO_JOB_SERVICE_PASS=%s" % secrets["OMERO_JOB_SERVICE_PASS"],
                     "OMERO_WEB_JOB_SERVICE_PASS=%s" % secrets["OMERO_JOB_SERVICE_PASS"],
                     "FMP_HASH_SECRET=ref-fmp-hash-secret-1f2e3d4c5b6a",
                     "GF_SECURITY_ADMIN_PASSWORD=%s" % secrets["GF_SECURITY_ADMIN_PASSWORD"]]
    server = ["CONFIG_omero_host=omeroserver", "CONFIG_omero_db_host=database", "CONFIG_omero_db_user=omero",
              "CONFIG_omero_db_name=omero", "TZ=Europe/Zurich", "OMERO_JOB_SERVICE_USERNAME=job-service",
              "CONFIG_omero_security_login__failure__throttle__count=5", "CONFIG_omero_db_poolsize=100",
              "CONFIG_omero_scripts_processors=20", "JAVA_OPTS=-Xmx3G -Djava.io.tmpdir=/var/tmp",
              "CONFIG_omero_fs_repo_path=%group%/%user%/%year%-%month%-%day%/%time%"]
    web = ["OMEROHOST=omeroserver", "OMP_DATA_USER=omero-plugin", "OMP_DATA_HOST=database_plugin",
           "OMP_DATA_DB=omero-plugin", "OMP_DATA_PORT=5433", "CONFIG_omero_web_application__server_port=4090",
           "CONFIG_omero_web_session__cookie__secure=false", "TZ=Europe/Zurich",
           'CONFIG_omero_web_apps=["omero_figure","omeroweb_upload"]',
           "CONFIG_omero_web_login__logo=/static/branding/logo.png", "OMERO_WEB_UPLOAD_CONCURRENCY=3"]
    return {
        ".env": "\n".join(dotenv) + "\n",
        "docker-compose.yml": yaml.safe_dump(compose(), sort_keys=False),
        "env/omero_secrets.env": "\n".join(omero_secrets) + "\n",
        "env/omeroserver.env": "\n".join(server) + "\n",
        "env/omeroweb.env": "\n".join(web) + "\n",
        "env/omero-celery.env": "OMERO_IMS_CELERY_BROKER_URL=redis://redis:6379/2\n",
        "env/grafana.env": "GF_SECURITY_ADMIN_USER=admin\n",
        "django_secret_key": WEB_SECRET_KEY + "\n",
    }


def write(root, install_dir=None, secrets=None):
    """Write the install directory under ``root`` (paths inside it say ``install_dir``,
    default the directory written); OMERO.web's key goes to its OMERO_WEB_VAR_PATH under root."""
    install_dir = install_dir or str(root)
    texts = files(install_dir, secrets)
    for rel, text in texts.items():
        if rel == "django_secret_key":
            target = Path(str(root) + "/omero_data/omero_web_var/django_secret_key")
        else:
            target = Path(root) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return texts


def main(argv=None):
    """``python tests/helpers/reference_stack.py DIR INSTALL_DIR IMAGES_JSON PORTS``: write a
    reference install directory to DIR (its paths say INSTALL_DIR) with the images of
    IMAGES_JSON ({postgres, omeroserver, omeroweb, redis}) and published ports
    ``server,web`` (the Molecule story stories/takeover.yml runs it on a test host)."""
    import json
    import sys

    root, install_dir, images, ports = (argv or sys.argv[1:])[:4]
    server, web = ports.split(",")
    texts = files(install_dir)
    spec = compose(json.loads(images))
    spec["services"]["omeroserver"]["ports"] = ["%s:4064" % server]
    spec["services"]["omeroweb"]["ports"] = ["%s:4090" % web]
    del spec["services"]["portainer"]
    texts["docker-compose.yml"] = yaml.safe_dump(spec, sort_keys=False)
    for rel, text in texts.items():
        target = Path(root) / ("omero_data/omero_web_var/django_secret_key" if rel == "django_secret_key" else rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


if __name__ == "__main__":
    main()
