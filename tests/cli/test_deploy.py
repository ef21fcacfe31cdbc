"""The deployment files in deploy/ (issue 6): the systemd unit, the Dockerfile, the compose
try-out and the Kubernetes manifests, checked without building or starting anything.

The Kubernetes manifests are validated by kubernetes-validate against the JSON schemas of the
Kubernetes API that its wheel ships (strict: unknown fields are errors), with the network cut
off during the validation. The configurations they carry pass `monitor check`."""

from __future__ import annotations

import configparser
import http.server
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import kubernetes_validate
import pytest
import yaml

from monitor.cli import main as cli
from monitor.config.load import parse_config
from monitor.config.model import Config
from tests.support.paths import ROOT

DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "monitor.service"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
KUBERNETES = DEPLOY / "kubernetes"
KUBERNETES_VERSION = "1.30"
INSTALLED = "/opt/monitor/.venv/bin/monitor"  # where `make install` in /opt/monitor puts it
CONFIG = "/etc/monitor/monitor.yaml"
PORT = 8080
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# --- systemd -------------------------------------------------------------------------------


def unit() -> configparser.ConfigParser:
    # systemd repeats some keys (SystemCallFilter=): the last one read is enough here
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"), str(UNIT))
    return parser


def enabled(value: str) -> bool:
    return value.strip().lower() in ("yes", "true", "on", "1")


def seconds(value: str) -> float:
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|sec|min|m)?", value.strip())
    assert found, f"unexpected time span {value!r}"
    return float(found.group(1)) * (60 if found.group(2) in ("min", "m") else 1)


def test_unit_is_hardened_and_reloads_with_sighup() -> None:
    """Runs everywhere, systemd or not: the keys the deployment relies on."""
    service = unit()["Service"]
    assert service["ExecStart"].split() == [INSTALLED, "run", "-c", CONFIG]
    assert service["ExecStartPre"].split() == [INSTALLED, "db", "upgrade", "-c", CONFIG]
    assert service["ExecReload"].split()[-2:] == ["-HUP", "$MAINPID"]
    assert enabled(service.get("DynamicUser", "no")) or service.get("User", "root") != "root"
    assert service["StateDirectory"] == "monitor"
    assert service["WorkingDirectory"] == "/var/lib/monitor"  # a relative sqlite path lands here
    assert service["EnvironmentFile"].lstrip("-") == "/etc/monitor/env"
    assert service["ProtectSystem"] == "strict"
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices"):
        assert enabled(service[key]), key
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert service["CapabilityBoundingSet"] == ""
    # the daemon stops within 10 s of SIGTERM; systemd waits a little longer before SIGKILL
    assert service.get("KillSignal", "SIGTERM") == "SIGTERM"
    assert 10 < seconds(service["TimeoutStopSec"]) <= 30
    assert service["Restart"] == "on-failure"
    assert "2" in service["RestartPreventExitStatus"].split()  # an invalid configuration
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_old_unit_path_is_gone() -> None:
    assert not (DEPLOY / "monitor.service").exists()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "deploy/monitor.service" not in readme
    assert "deploy/systemd/monitor.service" in readme


def installed_unit(tmp_path: Path) -> Path:
    """The unit with its ExecStart pointing at a stand-in for /opt/monitor's executable, which
    `systemd-analyze verify` requires to exist."""
    stand_in = tmp_path / "monitor"
    stand_in.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    stand_in.chmod(0o755)
    copy = tmp_path / "monitor.service"
    copy.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALLED, str(stand_in)))
    return copy


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason="systemd-analyze is not installed (no systemd here); the unit's keys are still "
    "checked by test_unit_is_hardened_and_reloads_with_sighup",
)


@needs_systemd
def test_unit_verifies(tmp_path: Path) -> None:
    assert SYSTEMD_ANALYZE is not None
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(installed_unit(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    ours = [line for line in (done.stdout + done.stderr).splitlines() if "monitor" in line]
    assert done.returncode == 0 and not ours, done.stdout + done.stderr


@needs_systemd
def test_unit_exposure_is_low(tmp_path: Path) -> None:
    assert SYSTEMD_ANALYZE is not None
    usage = subprocess.run([SYSTEMD_ANALYZE, "--help"], capture_output=True, text=True).stdout
    if "--offline" not in usage:
        pytest.skip("this systemd-analyze cannot review a unit file offline (systemd < 250)")
    review = ["security", "--offline=yes", "--threshold=20", "--no-pager"]
    done = subprocess.run(
        [SYSTEMD_ANALYZE, *review, str(installed_unit(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # the score, 0 (locked down) to 10 (exposed), times ten: "1.4 OK" is 14
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr


# --- configurations ------------------------------------------------------------------------


def variables(text: str) -> set[str]:
    """The ${NAME}s a configuration reads from the environment, comments left aside."""
    return {name for line in text.splitlines() for name in VARIABLE.findall(line.split("#")[0])}


def checked(path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Config:
    """The configuration as the daemon reads it, and `monitor check` passing on it."""
    text = path.read_text(encoding="utf-8")
    assert variables(text) <= env.keys()
    config = parse_config(text, str(path), env=env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["check", "-c", str(path)]) == 0
    return config


# --- compose -------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


def command(service: dict[str, Any]) -> list[str]:
    given = service.get("command", [])
    return given.split() if isinstance(given, str) else list(given)


def monitors(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services running the image of deploy/Dockerfile (replicas and the one-shot)."""
    return {
        name: service
        for name, service in services.items()
        if str(service.get("build", {}).get("dockerfile", "")).endswith("Dockerfile")
    }


def test_compose_has_db_two_replicas_and_mail_catcher() -> None:
    services = compose()["services"]
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    mail = [s for s in services.values() if re.search(r"mailpit|mailhog", s.get("image", ""))]
    assert len(mail) == 1
    ours = monitors(services)
    upgrades = {n: s for n, s in ours.items() if command(s) == ["db", "upgrade"]}
    replicas = {n: s for n, s in ours.items() if n not in upgrades}
    assert len(upgrades) == 1 and len(replicas) == 2, sorted(ours)
    (upgrade,) = upgrades
    first, second = replicas.values()
    for key in ("image", "build", "volumes", "environment", "depends_on"):
        assert first[key] == second[key], key  # the same configuration for both
    assert command(first) in ([], ["run"])
    assert first["depends_on"]["db"]["condition"] == "service_healthy"
    assert first["depends_on"][upgrade]["condition"] == "service_completed_successfully"
    assert ours[upgrade]["depends_on"]["db"]["condition"] == "service_healthy"
    assert first["ports"] != second["ports"]
    assert all(str(p).endswith(f":{PORT}") for r in replicas.values() for p in r["ports"])
    build = first["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def compose_config_path() -> Path:
    (service, *_) = monitors(compose()["services"]).values()
    volumes: list[str] = service["volumes"]
    mounted = [v.split(":")[0] for v in volumes if v.split(":")[1] == CONFIG]
    assert len(mounted) == 1
    return (COMPOSE.parent / mounted[0]).resolve()


def test_compose_configuration_passes_check(monkeypatch: pytest.MonkeyPatch) -> None:
    path = compose_config_path()
    assert path == DEPLOY / "compose" / "monitor.yaml"
    config = checked(path, {}, monkeypatch)
    assert config.storage == "postgresql://monitor:monitor@db/monitor"
    assert config.http is not None and config.http.address == ("0.0.0.0", PORT)
    assert config.log_format == "json"
    services = compose()["services"]
    assert config.smtp is not None and config.smtp.security == "none"
    assert re.search(r"mailpit|mailhog", services[config.smtp.host]["image"])
    assert config.smtp.port == 1025
    assert any(s.channel == "email" for s in config.subscribers)


# --- Kubernetes ----------------------------------------------------------------------------


def manifests() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                yield path.name, cast(dict[str, Any], document)


def resource(kind: str) -> dict[str, Any]:
    (found,) = [doc for _, doc in manifests() if doc["kind"] == kind]
    return found


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No connection can be opened: the schemas must come from the installed package."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the validation tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.usefixtures("offline")
def test_kubernetes_manifests_validate_against_the_schemas() -> None:
    kinds = []
    for name, document in manifests():
        if document["kind"] == "Kustomization":  # kustomize's, not the API's
            continue
        try:
            version = kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(part) for part in exc.path)
            pytest.fail(f"{name}: {document['kind']}: {where}: {exc.message}")
        assert version == KUBERNETES_VERSION
        kinds.append(document["kind"])
    assert sorted(kinds) == ["ConfigMap", "Deployment", "Secret", "Service"]


def test_kustomization_lists_every_manifest() -> None:
    listed = resource("Kustomization")["resources"]
    files = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(listed) == sorted(files)


def test_a_broken_manifest_is_refused() -> None:
    """The validation is not vacuous: a misspelt field fails it."""
    deployment = resource("Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="livenesProbe"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_deployment_probes_resources_and_security() -> None:
    deployment = resource("Deployment")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["terminationGracePeriodSeconds"] > 10
    (container,) = pod["containers"]
    (port,) = container["ports"]
    assert port["containerPort"] == PORT
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container[probe]["httpGet"]
        assert get["path"] == path and get["port"] in (PORT, port["name"]), probe
    volumes = {v["name"]: v for v in pod["volumes"]}
    for each in pod["containers"] + pod.get("initContainers", []):
        assert {"cpu", "memory"} <= each["resources"]["requests"].keys(), each["name"]
        assert "memory" in each["resources"]["limits"], each["name"]
        context = each["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in each["volumeMounts"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]
        assert volumes[mounts["/etc/monitor"]]["configMap"]["name"] == "monitor-config"
        secrets = [e["secretRef"]["name"] for e in each["envFrom"]]
        assert secrets == [resource("Secret")["metadata"]["name"]]
    (upgrade,) = pod["initContainers"]
    assert upgrade["args"] == ["db", "upgrade"] and container["args"] == ["run"]
    assert upgrade["image"] == container["image"]


def test_service_exposes_metrics_to_prometheus() -> None:
    service = resource("Service")
    annotations = service["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(PORT)
    assert annotations["prometheus.io/path"] == "/metrics"
    (port,) = service["spec"]["ports"]
    assert port["port"] == PORT
    labels = resource("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_kubernetes_configuration_passes_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ConfigMap's monitor.yaml, with the Secret's placeholders as its environment."""
    path = tmp_path / "monitor.yaml"
    path.write_text(resource("ConfigMap")["data"]["monitor.yaml"], encoding="utf-8")
    secrets = cast(dict[str, str], resource("Secret")["stringData"])
    assert {"SMTP_PASSWORD", "WEBHOOK_SECRET"} <= variables(path.read_text(encoding="utf-8"))
    config = checked(path, secrets, monkeypatch)
    assert config.storage.startswith("postgresql://")
    assert config.http is not None and config.http.address == ("0.0.0.0", PORT)
    assert config.log_format == "json"
    assert config.smtp is not None and config.smtp.password is not None


# --- Dockerfile ----------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    found, pending = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        keyword, _, arguments = (pending + text).partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last:]


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    steps = instructions()
    bases = [args.split()[0] for keyword, args in steps if keyword == "FROM"]
    assert len(bases) >= 2 and set(bases) == {"python:3.11-slim"}
    final = final_stage()
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(k == "COPY" and args.startswith("--from=") for k, args in final)
    (healthcheck,) = [args for keyword, args in final if keyword == "HEALTHCHECK"]
    assert f"127.0.0.1:{PORT}/healthz" in healthcheck and "urllib" in healthcheck
    assert ("EXPOSE", str(PORT)) in final


def test_dockerfile_copies_what_the_build_context_has() -> None:
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    for keyword, args in instructions():
        if keyword == "COPY" and not args.startswith("--from="):
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert f"!{source.rstrip('/')}" in [i.rstrip("/") for i in ignored], source


class Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.slow
@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_dockerfile_healthcheck_command(status: int, healthy: bool) -> None:
    """The HEALTHCHECK's Python one-liner, run against a stand-in /healthz."""
    (healthcheck,) = [args for keyword, args in final_stage() if keyword == "HEALTHCHECK"]
    argv = json.loads(healthcheck.partition(" CMD ")[2])
    assert argv[:2] == ["python", "-c"]
    handler = type("Handler", (Health,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code = argv[2].replace(f"127.0.0.1:{PORT}", f"127.0.0.1:{server.server_port}")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert (done.returncode == 0) is healthy, done.stderr
