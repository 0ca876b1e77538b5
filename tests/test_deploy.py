"""The deployment files: Dockerfile, deploy/compose/compose.yaml and deploy/k8s/*.yaml.

No Docker engine or cluster is needed: the Kubernetes manifests are checked offline against the 1.30
schemas (kubernetes-validate, strict), compose.yaml against the Compose specification's schema
(check-jsonschema's vendored copy), and all three for what ties them to the app: the settings it
reads, its health endpoints, its non-root user and the migration step.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"
K8S_DIR = ROOT / "deploy" / "k8s"
K8S_FILES = sorted(K8S_DIR.glob("*.yaml"))
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
SECRET_ENV = {"DATABASE_URL", "VALKEY_URL", "S3_ACCESS_KEY", "S3_SECRET_KEY", "SECRET_KEY"}
ENV_READ = re.compile(
    r"""(?:_env(?:_int|_bool|_float|_list)?\(|os\.environ\.get\(|os\.getenv\(|os\.environ\[)\s*["']([A-Z0-9_]+)["']"""
)


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


# --- settings.py ------------------------------------------------------------------------------------


def test_required_settings_are_still_read_by_settings_py():
    assert REQUIRED_ENV <= env_read_by([SETTINGS]), "settings.py renamed or dropped a required setting"


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


def test_dockerfile_base_image_and_install():
    instructions = dockerfile_instructions()
    froms = [args for ins, args in instructions if ins == "FROM"]
    assert froms[-1].split()[0] == "python:3.11-slim-bookworm"
    assert ("WORKDIR", "/app") in instructions
    runs = " ".join(args for ins, args in instructions if ins == "RUN")
    assert re.search(r"pip install (--no-deps )?-e \.", runs), "the package must be installed editable"
    assert "pybabel compile -d src/servicerw/locale -D messages" in runs
    copies = [args for ins, args in instructions if ins == "COPY"]
    assert ". ." in copies, "the whole repository tree must be copied to /app"


def test_dockerfile_runs_as_non_root_user_matching_kubernetes():
    users = [args for ins, args in dockerfile_instructions() if ins == "USER"]
    assert users, "the Dockerfile has no USER line"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"} and group not in {"root", "0"}
    assert user.isdigit(), "use a numeric user id so that Kubernetes' runAsNonRoot can check it"
    pod = k8s_resource("Deployment", "servicerw")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == int(user)


def test_dockerfile_bakes_in_no_secret():
    for instruction, arguments in dockerfile_instructions():
        if instruction in {"ENV", "ARG"}:
            for name in SECRET_ENV | {"POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"}:
                assert not re.search(rf"\b{name}\b", arguments), f"{instruction} sets {name}"


def test_dockerignore_keeps_secrets_out_and_runtime_files_in():
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (".git", "**/.env", "**/.venv"):
        assert needed in patterns
    for runtime in ("src", "templates", "static", "migrations", "pyproject.toml", "README.md"):
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


def compose() -> dict:
    return interpolate(compose_raw(), {})


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
    assert {"postgres", "valkey", "minio", "minio-init", "migrate", "app"} <= set(services)


def test_compose_images_are_pinned():
    for name, service in compose()["services"].items():
        assert "image" in service, f"{name} has no image"
        assert image_is_pinned(service["image"]), f"{name}: image {service['image']!r} is not pinned"


def test_compose_app_waits_for_migrations_and_services():
    services = compose()["services"]
    app = depends_on(services["app"])
    assert app["migrate"] == "service_completed_successfully"
    assert app["minio-init"] == "service_completed_successfully"
    assert app["valkey"] == "service_healthy"
    assert app["minio"] == "service_healthy"
    assert depends_on(services["migrate"])["postgres"] == "service_healthy"
    assert depends_on(services["minio-init"])["minio"] == "service_healthy"
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            assert dependency in services, f"{name} depends on an unknown service {dependency}"
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"


def test_compose_migrate_and_app_run_the_same_image():
    services = compose()["services"]
    assert services["migrate"]["image"] == services["app"]["image"]
    command = services["migrate"]["command"]
    assert (command if isinstance(command, list) else command.split()) == ["servicerw", "migrate"]
    assert services["migrate"].get("restart", "no") == "no"


def test_compose_app_gets_every_required_setting():
    services = compose()["services"]
    app_env = service_env(services["app"])
    missing = REQUIRED_ENV - {key for key, value in app_env.items() if value}
    assert not missing, f"compose does not set {sorted(missing)} for the app"
    assert service_env(services["migrate"])["DATABASE_URL"] == app_env["DATABASE_URL"]
    assert app_env["SERVICERW_ENV"] == "production"
    unknown = set(app_env) - env_read_by_app()
    assert not unknown, f"compose sets {sorted(unknown)}, which the app does not read"


def test_compose_urls_point_at_compose_services():
    services = compose()["services"]
    app_env = service_env(services["app"])
    for key, service in (("DATABASE_URL", "postgres"), ("VALKEY_URL", "valkey"), ("S3_ENDPOINT_URL", "minio")):
        assert urlsplit(app_env[key]).hostname == service, f"{key} does not point at {service}"
    assert urlsplit(app_env["DATABASE_URL"]).scheme == "postgresql"
    postgres = service_env(services["postgres"])
    database = urlsplit(app_env["DATABASE_URL"])
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"]
    assert database.path == "/" + postgres["POSTGRES_DB"]
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
    }
    app_env = service_env(interpolate(compose_raw(), env)["services"]["app"])
    assert app_env["SECRET_KEY"] == "s3cret"
    assert urlsplit(app_env["DATABASE_URL"]).password == "pg-pass"
    assert app_env["S3_SECRET_KEY"] == "minio-key"


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


def test_compose_minio_init_creates_a_public_bucket():
    script = compose()["services"]["minio-init"]["command"]
    script = "\n".join(script) if isinstance(script, list) else script
    assert 'mc mb --ignore-existing "local/$S3_BUCKET"' in script
    assert 'mc anonymous set download "local/$S3_BUCKET"' in script


def test_compose_named_volumes_are_declared():
    config = compose()
    declared = set(config.get("volumes") or {})
    for name, service in config["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} uses undeclared volume {source}"
    assert {"postgres-data", "minio-data"} <= declared


# --- Kubernetes -------------------------------------------------------------------------------------


def k8s_documents() -> list[tuple[Path, dict]]:
    documents = []
    for path in K8S_FILES:
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                documents.append((path, document))
    return documents


def k8s_resource(kind: str, name: str) -> dict:
    matches = [doc for _, doc in k8s_documents() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def k8s_kind(kind: str) -> list[dict]:
    return [doc for _, doc in k8s_documents() if doc["kind"] == kind]


@pytest.mark.parametrize("path", K8S_FILES, ids=lambda path: path.name)
def test_k8s_manifest_is_valid_for_kubernetes_1_30(path):
    documents = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    assert documents, f"{path.name} holds no resource"
    for document in documents:
        # Raises ValidationError, or SchemaNotFoundError for an unknown kind or apiVersion.
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_k8s_has_every_resource():
    kinds = {doc["kind"] for _, doc in k8s_documents()}
    expected = {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
    }
    assert expected <= kinds, f"missing {sorted(expected - kinds)}"
    assert (K8S_DIR / "secret.example.yaml").is_file()


def test_k8s_resources_live_in_the_servicerw_namespace():
    for path, doc in k8s_documents():
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == NAMESPACE
        else:
            assert doc["metadata"].get("namespace") == NAMESPACE, f"{path.name}: {doc['kind']}"


def test_k8s_config_and_secret_hold_every_required_setting():
    config = k8s_resource("ConfigMap", "servicerw-config")["data"]
    secrets = k8s_kind("Secret")
    assert len(secrets) == 1
    secret = secrets[0]
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    missing = REQUIRED_ENV - set(config) - secret_keys
    assert not missing, f"neither the ConfigMap nor the Secret sets {sorted(missing)}"
    assert SECRET_ENV <= secret_keys, "secrets must be in the Secret"
    assert not SECRET_ENV & set(config), "a secret is in the ConfigMap"
    unknown = (set(config) | secret_keys) - env_read_by_app()
    assert not unknown, f"the ConfigMap or Secret sets {sorted(unknown)}, which the app does not read"
    assert config["SERVICERW_ENV"] == "production"


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


def pod_spec(kind: str, name: str) -> dict:
    return k8s_resource(kind, name)["spec"]["template"]["spec"]


def test_k8s_deployment_shape():
    deployment = k8s_resource("Deployment", "servicerw")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert image_is_pinned(container["image"])
    assert container["command"][:2] == ["servicerw", "serve"]
    for section in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][section]), f"no {section}"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]]
    data_dir = k8s_resource("ConfigMap", "servicerw-config")["data"]["DATA_DIR"]
    assert data_dir in mounts, "DATA_DIR must be writable with a read-only root filesystem"


def test_k8s_probes_point_at_health_endpoints_on_an_allowed_host():
    (container,) = pod_spec("Deployment", "servicerw")["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    expected = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    allowed = k8s_resource("ConfigMap", "servicerw-config")["data"]["ALLOWED_HOSTS"].split(",")
    for probe, path in expected.items():
        get = container[probe]["httpGet"]
        assert get["path"] == path, probe
        assert get["port"] in ports or get["port"] in ports.values(), probe
        headers = {header["name"].lower(): header["value"] for header in get.get("httpHeaders", [])}
        # Without a Host header the kubelet sends the pod's IP, which ALLOWED_HOSTS refuses.
        assert headers.get("host") in allowed, f"{probe}: Host header not in ALLOWED_HOSTS"
    assert ports["http"] == 8000


def test_k8s_migrations_run_with_the_app_image_and_settings():
    job_pod = pod_spec("Job", "servicerw-migrate")
    app_pod = pod_spec("Deployment", "servicerw")
    (migrate,) = job_pod["containers"]
    (app,) = app_pod["containers"]
    assert migrate["command"] == ["servicerw", "migrate"]
    assert migrate["image"] == app["image"]
    assert migrate["envFrom"] == app["envFrom"]
    assert job_pod["restartPolicy"] in {"Never", "OnFailure"}
    assert job_pod["securityContext"]["runAsNonRoot"] is True
    assert migrate["securityContext"]["readOnlyRootFilesystem"] is True


def test_k8s_env_references_exist():
    config_maps = {doc["metadata"]["name"] for doc in k8s_kind("ConfigMap")}
    secrets = {doc["metadata"]["name"] for doc in k8s_kind("Secret")}
    for kind, name in (("Deployment", "servicerw"), ("Job", "servicerw-migrate")):
        for container in pod_spec(kind, name)["containers"]:
            sources = container["envFrom"]
            assert {s["configMapRef"]["name"] for s in sources if "configMapRef" in s} <= config_maps
            assert {s["secretRef"]["name"] for s in sources if "secretRef" in s} <= secrets
            assert any("configMapRef" in s for s in sources) and any("secretRef" in s for s in sources)


def test_k8s_service_ingress_hpa_and_pdb_select_the_deployment():
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

    hpa = k8s_resource("HorizontalPodAutoscaler", "servicerw")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "servicerw"}
    assert hpa["spec"]["minReplicas"] >= 2
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}

    pdb = k8s_resource("PodDisruptionBudget", "servicerw")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
