"""The deploy files against the code: every setting they set exists, every process has probes,
limits and a non-root security context, images are pinned, and the image gets no dev tools.
(deploy/validate.sh checks them against their schemas and tools; this checks what those cannot.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from instagram_service.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ROOT = DEPLOY.parent


def k8s_docs() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def kind(name: str) -> list[dict[str, Any]]:
    return [doc for doc in k8s_docs() if doc["kind"] == name]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return loaded


def setting_names() -> set[str]:
    return {f"IGS_{name.upper()}" for name in Settings.model_fields}


def test_every_igs_variable_the_deploy_files_set_is_a_setting() -> None:
    names: set[str] = set()
    for doc in kind("ConfigMap") + kind("Secret"):
        names |= set((doc.get("data") or {}) | (doc.get("stringData") or {}))
    for service in compose()["services"].values():
        names |= set(service.get("environment") or {})
    names |= {line.split("=", 1)[0] for line in (DEPLOY / ".env.example").read_text().splitlines()
              if "=" in line and not line.startswith("#")}  # fmt: skip
    igs = {name for name in names if name.startswith("IGS_")}
    assert igs, "no settings found"
    assert igs <= setting_names(), f"not settings: {sorted(igs - setting_names())}"


def test_the_kubernetes_settings_load_and_point_oauth_at_the_public_host() -> None:
    (config,) = kind("ConfigMap")
    (secret,) = kind("Secret")
    env = {
        k.removeprefix("IGS_").lower(): v
        for k, v in (config["data"] | secret["stringData"]).items()
    }
    settings = Settings(**env)
    assert settings.broker == "redis"
    assert settings.oauth_redirect_uri.startswith("https://")
    assert "127.0.0.1" not in settings.oauth_redirect_uri
    assert settings.metrics_port
    assert settings.metrics_host == "0.0.0.0"  # noqa: S104
    # No nginx runs in the cluster: with the prefix set, images would be empty bodies.
    containers = [
        c for d in kind("Deployment") for c in d["spec"]["template"]["spec"]["containers"]
    ]
    if not any("nginx" in c["image"] for c in containers):
        assert settings.media_accel_redirect_prefix is None


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    specs = [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in kind("Deployment")]
    specs += [(j["metadata"]["name"], j["spec"]["template"]["spec"]) for j in kind("Job")]
    return specs


@pytest.mark.parametrize(("name", "spec"), pod_specs(), ids=[n for n, _ in pod_specs()])
def test_every_pod_is_locked_down_and_sized(name: str, spec: dict[str, Any]) -> None:
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] == 10001
    for container in spec["containers"]:
        image = container["image"]
        assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", image), f"{name}: unpinned image {image}"
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"])
        assert {"cpu", "memory"} <= set(resources["limits"])
    if "media" in {v["name"] for v in spec.get("volumes", [])}:
        assert pod["fsGroup"] == 10001, f"{name}: the shared volume must be writable by the app"


@pytest.mark.parametrize("name", ["instagram-api", "instagram-worker", "instagram-scheduler"])
def test_every_process_has_probes_on_its_port(name: str) -> None:
    (deployment,) = [d for d in kind("Deployment") if d["metadata"]["name"] == name]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] in ("/healthz", "/readyz")
        assert get["port"] in ports
    assert "initContainers" not in deployment["spec"]["template"]["spec"], "migrate is a Job"


def test_migrations_run_in_one_job_per_release() -> None:
    (job,) = kind("Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["instagram-service", "migrate"]
    version = container["image"].rsplit(":", 1)[1]
    assert job["metadata"]["name"].endswith(version.replace(".", "-"))


def test_disruption_budget_and_worker_autoscaler() -> None:
    assert {p["metadata"]["name"] for p in kind("PodDisruptionBudget")} >= {"instagram-api"}
    (hpa,) = kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "instagram-worker"
    assert kind("Ingress")


def test_compose_orders_start_up_and_checks_health() -> None:
    services = compose()["services"]
    for name in ("api", "worker", "scheduler"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert services[name]["restart"] == "unless-stopped"
    for name, service in services.items():
        if name != "migrate":
            assert "test" in service["healthcheck"], f"{name} has no healthcheck"
        image = service["image"]
        assert re.search(r":v?\d", image), f"{name}: unpinned image {image}"
    # Each process checks its own port, not the API's.
    assert "9100" in " ".join(services["worker"]["healthcheck"]["test"])
    assert "9100" in " ".join(services["scheduler"]["healthcheck"]["test"])
    assert services["grafana"]["volumes"], "the dashboard is provisioned"


def lock_names(path: Path) -> set[str]:
    return {m[1].lower() for m in re.finditer(r"^([A-Za-z0-9][\w.-]*)==", path.read_text(), re.M)}


def test_the_image_installs_production_dependencies_only() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "-r requirements.lock" in dockerfile
    assert "requirements-dev.lock" not in dockerfile
    assert "[dev]" not in dockerfile
    prod, dev = lock_names(ROOT / "requirements.lock"), lock_names(ROOT / "requirements-dev.lock")
    assert not prod & dev, f"pinned twice: {sorted(prod & dev)}"
    assert not {"pytest", "mypy", "ruff", "hypothesis", "schemathesis"} & prod
    assert "USER 10001" in dockerfile
    assert "chown -R igs:igs /data" in dockerfile
    assert "PROBE_PORT" in dockerfile  # one health check that follows each process's port


def test_nginx_adds_no_second_cache_control_and_marks_requests() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "add_header Cache-Control" not in conf
    assert "proxy_set_header X-Sendfile-Type X-Accel-Redirect" in conf


def test_prometheus_scrapes_every_process_and_loads_the_alerts() -> None:
    config = yaml.safe_load((DEPLOY / "monitoring/prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert jobs == {"api", "worker", "scheduler"}
    assert config["rule_files"] == ["alerts.yml"]
    alerts = yaml.safe_load((DEPLOY / "monitoring/alerts.yml").read_text())
    tests = (DEPLOY / "monitoring/alerts.test.yml").read_text()
    for rule in alerts["groups"][0]["rules"]:
        assert f"alertname: {rule['alert']}" in tests, f"{rule['alert']} has no promtool test"
