"""Adding a provider as docs/adding-a-provider.md says, in a copy of the repository: one
folder under services/, one line in the list of services, its seed section.

The throwaway provider `tryout` is the employment service's folder under another name
(a provider built on the kit; what it decides does not matter here). The copy's packages
come first on PYTHONPATH, so every command below runs the copy's code. Then everything
that names providers must name it too: `korpu generate` writes its compose service, its
database, its Redis user, its streams in the AsyncAPI document, its OpenAPI document;
the catalog, the consent purposes and the seed command know it; the compose file still
validates offline; and the shared provider contract suite runs against it on real Redis.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from korpu import catalog
from support.compose import check_jsonschema, compose_binary, run

ROOT = Path(__file__).resolve().parents[2]
NAME = "tryout"
LINE = '    TRYOUT = "tryout", "tryouts"\n'
TEMPLATE = "employment"  # the folder copied under the new name


def _copy_repository(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)


def _renamed(text: str) -> str:
    for old, new in (
        (TEMPLATE, NAME),
        (TEMPLATE.title(), NAME.title()),
        (TEMPLATE.upper(), "TRYOUT"),
    ):
        text = text.replace(old, new)
    return text


def _add_the_folder(repo: Path) -> None:
    source = repo / "services" / TEMPLATE
    for path in source.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            target = repo / "services" / NAME / _renamed(str(path.relative_to(source)))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_renamed(path.read_text(encoding="utf-8")), encoding="utf-8")


def _add_the_line(repo: Path) -> None:
    vocabulary = repo / "shared/contracts/src/korpu_contracts/vocabulary.py"
    text = vocabulary.read_text(encoding="utf-8")
    # At the end of the list, as the guide says: the place gives the port.
    last = re.findall(r'^    [A-Z_]+ = "\w+", "\w+"\n', text, flags=re.MULTILINE)[-1]
    vocabulary.write_text(text.replace(last, last + LINE), encoding="utf-8")


def _add_the_seed_section(repo: Path) -> None:
    directory = repo / "deploy" / "demo-directory.json"
    document = json.loads(directory.read_text(encoding="utf-8"))
    document["tryouts"] = [
        {"name": "Tryout Baku", "region": "Baku", "seats": 2, "languages": ["az"], "min_age": 16}
    ]
    directory.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")


def _add_its_contract_suite_entry(repo: Path) -> None:
    harness = repo / "tests/integration/providers/providers_harness.py"
    text = harness.read_text(encoding="utf-8")
    last = re.findall(r'^    "\w+": _\w+,\n', text, flags=re.MULTILINE)[-1]
    harness.write_text(text.replace(last, last + f'    "{NAME}": _program,\n'), encoding="utf-8")


def _environment(repo: Path, **more: str) -> dict[str, str]:
    sources = [
        repo / "shared/contracts/src",
        repo / "shared/runtime/src",
        repo / "shared/provider_kit/src",
        *sorted((repo / "services").glob("*/src")),
        repo / "src",
    ]
    environment = {k: v for k, v in os.environ.items() if k != "KORPU_DATA_DIR"}
    environment["PYTHONPATH"] = os.pathsep.join(str(path) for path in sources)
    environment.update(more)
    return environment


def _python(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=repo,
        env=_environment(repo, **env),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("added") / "repo"
    _copy_repository(root)
    _add_the_folder(root)
    _add_the_line(root)
    _add_the_seed_section(root)
    _add_its_contract_suite_entry(root)
    stale = _python(root, "-m", "korpu", "generate", "--check")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    for named in (
        "docker-compose.yml",
        "deploy/postgres-init.sql",
        "deploy/redis-users.acl",
        "pyproject.toml",
        "docs/asyncapi.json",
    ):
        assert f"stale: {named}" in stale.stdout
    generated = _python(root, "-m", "korpu", "generate")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return root


def test_the_copy_runs_its_own_code(repo: Path) -> None:
    found = _python(repo, "-c", "import korpu_contracts, tryout; print(korpu_contracts.__file__)")
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith(str(repo))


def test_generating_again_changes_nothing(repo: Path) -> None:
    checked = _python(repo, "-m", "korpu", "generate", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_catalog_purposes_and_streams_name_it(repo: Path) -> None:
    script = (
        "import json; from korpu import catalog; from korpu_contracts import streams, vocabulary;"
        "print(json.dumps([catalog.SERVICES, catalog.DIRECTORY_KEYS, list(vocabulary.Purpose),"
        " streams.ALL, streams.READERS, streams.producers_of('korpu.tryout.updates')]))"
    )
    shown = _python(repo, "-c", script)
    assert shown.returncode == 0, shown.stderr
    services, keys, purposes, every_stream, readers, producers = json.loads(shown.stdout)
    assert services == [*catalog.PROVIDERS, NAME, "referral"]
    assert keys["tryouts"] == NAME
    assert NAME in purposes
    assert {"korpu.tryout.requests", "korpu.tryout.updates"} <= set(every_stream)
    assert readers["korpu.tryout.requests"] == NAME
    assert readers["korpu.tryout.updates"] == "referral"
    assert producers == [NAME]
    help_text = _python(repo, "-m", "korpu", "serve", "--help").stdout
    assert NAME in help_text


def test_compose_runs_it_on_its_own_database_port_and_redis_user(repo: Path) -> None:
    compose: dict[str, Any] = YAML(typ="safe", pure=True).load(
        (repo / "docker-compose.yml").read_text("utf-8")
    )
    service = compose["services"][NAME]
    assert service["command"] == ["korpu", "serve", NAME]
    environment = service["environment"]
    assert environment["TRYOUT_DATABASE_URL"].endswith("@postgres:5432/tryout")
    assert environment["REDIS_URL"] == "redis://tryout:korpu-demo-tryout@redis:6379/0"
    # The next port after the providers already listed (8081 is the first).
    port = str(8081 + len(catalog.PROVIDERS))
    assert environment["TRYOUT_HTTP_PORT"] == port
    assert service["expose"] == [port]
    seed = compose["services"]["seed"]
    assert seed["depends_on"][NAME] == {"condition": "service_healthy"}
    assert seed["environment"]["TRYOUT_DATABASE_URL"] == environment["TRYOUT_DATABASE_URL"]
    assert "CREATE DATABASE tryout;" in (repo / "deploy/postgres-init.sql").read_text()


def test_the_generated_compose_file_still_validates_offline(repo: Path) -> None:
    compose_file = repo / "docker-compose.yml"
    checked = run(compose_binary(), "--project-directory", repo, "-f", compose_file, "config", "-q")
    assert checked.returncode == 0, checked.stderr
    schema = check_jsonschema(compose_file)
    assert schema.returncode == 0, schema.stdout + schema.stderr


def test_its_redis_user_reads_its_requests_and_writes_only_its_answers(repo: Path) -> None:
    lines = (repo / "deploy/redis-users.acl").read_text().splitlines()
    (user,) = [line for line in lines if line.startswith(f"user {NAME} ")]
    assert "(~korpu.tryout.requests +xreadgroup" in user
    assert "(%W~korpu.tryout.updates +xadd +xtrim)" in user
    assert "(%W~korpu.deadletters.tryout +xadd)" in user
    (referral,) = [line for line in lines if line.startswith("user referral ")]
    assert "~korpu.tryout.updates" in referral and "%W~korpu.tryout.requests" in referral


def test_the_import_rules_and_type_checks_cover_it(repo: Path) -> None:
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text("utf-8"))
    assert "services/tryout/src" in pyproject["tool"]["mypy"]["files"]
    linter = pyproject["tool"]["importlinter"]
    assert NAME in linter["root_packages"]
    layered = [c for c in linter["contracts"] if c["type"] == "layers" and NAME in c["containers"]]
    assert layered, "the provider's layers are not checked"
    checked = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=repo,
        env=_environment(repo),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout[-3000:]


def test_the_documents_describe_it(repo: Path) -> None:
    asyncapi = json.loads((repo / "docs/asyncapi.json").read_text("utf-8"))
    assert asyncapi["channels"]["tryout_requests"]["address"] == "korpu.tryout.requests"
    assert asyncapi["channels"]["tryout_updates"]["address"] == "korpu.tryout.updates"
    receive = asyncapi["operations"]["tryout.receive.tryout_requests"]
    assert receive["x-korpu-consumer-group"] == NAME
    requested = json.loads(
        (repo / "shared/contracts/schemas/korpu.task.requested/v1.json").read_text("utf-8")
    )
    assert NAME in json.dumps(requested)
    openapi = json.loads((repo / "docs/openapi/tryout.json").read_text("utf-8"))
    assert openapi["info"]["title"] == "Körpü tryout service"


def test_korpu_seed_loads_its_section_into_its_own_database(repo: Path, tmp_path: Path) -> None:
    seeded = _python(
        repo, "-m", "korpu", "--data-dir", str(tmp_path), "seed", "deploy/demo-directory.json"
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert "1 tryouts" in seeded.stdout
    assert (tmp_path / "tryout.db").exists()


def test_the_provider_contract_suite_runs_against_it(repo: Path, redis_server_url: str) -> None:
    suite = _python(
        repo,
        "-m",
        "pytest",
        "tests/integration/providers",
        "-k",
        NAME,
        "-m",
        "not postgres",
        "-q",
        "-p",
        "no:cacheprovider",
        KORPU_TEST_REDIS_URL=redis_server_url,
    )
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    passed = re.search(r"(\d+) passed", suite.stdout)
    # Each contract test once for the new provider (the others deselected).
    assert passed is not None and int(passed.group(1)) >= 10, suite.stdout[-2000:]
