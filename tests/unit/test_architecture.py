"""The import rules of docs/ARCHITECTURE.md, enforced on the source (AST): layers, and who may speak HTTP and SQL."""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Each module of pipeline/ belongs to one layer; a layer may import only the layers listed for it.
LAYERS: dict[str, tuple[str, ...]] = {
    "core": ("pipeline", "pipeline.models", "pipeline.errors", "pipeline.settings", "pipeline.sources",
             "pipeline.urls", "pipeline.dates", "pipeline.charset", "pipeline.dedup", "pipeline.storable",
             "pipeline.dburl"),
    "fetch": ("pipeline.fetch",),
    "extract": ("pipeline.extract",),
    "store": ("pipeline.store",),
    "archive": ("pipeline.archive",),
    "discover": ("pipeline.discover",),
    "local": ("pipeline.embedded", "pipeline.localdev", "pipeline.newssite"),
    "run": ("pipeline.run",),
    "edge": ("pipeline.cli", "pipeline.orchestration", "pipeline.evaluate"),
}
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "fetch": {"core", "fetch"},
    "extract": {"core", "extract"},
    "store": {"core", "store"},
    "archive": {"core", "archive"},
    "discover": {"core", "fetch", "archive", "discover"},
    "local": {"core", "store", "local"},
    "run": {"core", "fetch", "extract", "store", "archive", "discover", "local", "run"},
    "edge": set(LAYERS),
}
# Third-party and standard-library modules only some packages may import.
HTTP = ("requests", "urllib3", "http.client", "urllib.request")
SOCKET = ("socket",)
HTTP_SERVER = ("http.server", "socketserver")
DATABASE = ("sqlalchemy", "psycopg2")
STORAGE = ("fsspec", "warcio", "s3fs", "gcsfs")  # files in a directory or object storage, WARC records
# The named exceptions, each with its reason (docs/ARCHITECTURE.md lists them too):
# `make up` waits on loopback until the servers it started answer (`localdev wait-http`); that readiness
# probe is not the pipeline fetching pages, and going through `Fetcher` (robots, SSRF guard) would be wrong.
HTTP_EXCEPTIONS = ("pipeline.localdev",)
# A frozen database server answers nothing and keeps TCP up: the store's unit-of-work deadline shuts the
# socket under the psycopg2 connection (`pipeline.store.database`), the one way to end libpq's wait.
SOCKET_EXCEPTIONS = ("pipeline.store.database",)
# Serving HTTP is the fake news site's job (demo, tests, bench), and no other module's.
HTTP_SERVERS = ("pipeline.newssite",)
PRIVILEGED = {HTTP: ("pipeline.fetch", *HTTP_EXCEPTIONS),
              SOCKET: ("pipeline.fetch", *HTTP_EXCEPTIONS, *SOCKET_EXCEPTIONS),
              HTTP_SERVER: HTTP_SERVERS, DATABASE: ("pipeline.store",), STORAGE: ("pipeline.archive",)}
SQL = re.compile(r"\b(?:SELECT\s[\s\S]+?\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                 r"CREATE\s+(?:TABLE|VIEW|DATABASE|INDEX))\b")
DAG_TOP_LEVEL = ("pendulum", "airflow.sdk")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports, absolute
    line: int
    top_level: bool


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> list[Import]:
    """Every import of a module, relative ones resolved, with whether it runs at import time."""
    tree = ast.parse(source)
    nested = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
              for n in ast.walk(f)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(package + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base for alias in node.names]
        else:
            continue
        found += [Import(module, target, node.lineno, id(node) not in nested) for target in targets]
    return found


def _is_module(name: str) -> bool:
    """True when `name` is a module or package of this repository (not an attribute of one)."""
    path = REPO.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def layer_of(module: str) -> str | None:
    """The layer of a module: by its own name or its package's (`pipeline` itself is only the package)."""
    best = max(((prefix, layer) for layer, prefixes in LAYERS.items() for prefix in prefixes
                if module == prefix or (prefix != "pipeline" and module.startswith(prefix + "."))),
               default=None, key=lambda p: len(p[0]))
    return best[1] if best else None


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Every rule a pipeline module breaks, one line each."""
    problems = []
    own = layer_of(module)
    for imp in imports_of(source, module, is_package):
        if imp.target.startswith("pipeline"):
            target = layer_of(imp.target)
            if own is None or target is None or target not in ALLOWED[own]:
                problems.append(f"{module}:{imp.line} ({own}) imports {imp.target} ({target})")
        for names, owners in PRIVILEGED.items():
            if imp.target.split(".")[0] in {n.split(".")[0] for n in names} and any(
                    imp.target == n or imp.target.startswith(n + ".") for n in names):
                if not any(module == o or module.startswith(o + ".") for o in owners):
                    problems.append(f"{module}:{imp.line} imports {imp.target}, reserved to {', '.join(owners)}")
        if imp.target.startswith("airflow") and imp.top_level:
            problems.append(f"{module}:{imp.line} imports {imp.target} at import time (pipeline runs without Airflow)")
    if not module.startswith("pipeline.store"):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                problems.append(f"{module}:{node.lineno} holds SQL; only pipeline.store speaks SQL")
    return problems


def dag_violations(module: str, source: str) -> list[str]:
    """A DAG file imports only the standard library, pendulum and airflow.sdk at its top level."""
    allowed = set(sys.stdlib_module_names) | {"__future__"}
    return [f"{module}:{imp.line} imports {imp.target} at the top of a DAG file"
            for imp in imports_of(source, module) if imp.top_level
            and imp.target.split(".")[0] not in allowed
            and not any(imp.target == a or imp.target.startswith(a + ".") for a in DAG_TOP_LEVEL)]


PIPELINE_FILES = sorted((REPO / "pipeline").rglob("*.py"))
DAG_FILES = sorted((REPO / "dags").glob("*.py"))


def test_every_pipeline_module_has_a_layer() -> None:
    assert [module_name(p) for p in PIPELINE_FILES if layer_of(module_name(p)) is None] == []


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=lambda p: module_name(p))
def test_pipeline_module_follows_the_import_rules(path: Path) -> None:
    assert violations(module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py") == []


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_only_stdlib_pendulum_and_airflow_sdk_at_top_level(path: Path) -> None:
    assert dag_violations(f"dags.{path.stem}", path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("pipeline.extract.body", "from pipeline.store import Store", "imports pipeline.store (store)"),
        ("pipeline.fetch.client", "from pipeline.discover import discover_source", "(discover)"),
        ("pipeline.store.raw", "def f():\n    from pipeline.run.ingest import run_ingest", "(run)"),
        ("pipeline.models", "from pipeline.fetch import Fetcher", "imports pipeline.fetch (fetch)"),
        ("pipeline.discover.state", "import requests", "reserved to pipeline.fetch"),
        ("pipeline.run.ingest", "from urllib3.util import Retry", "reserved to pipeline.fetch"),
        ("pipeline.extract.html", "import sqlalchemy as sa", "reserved to pipeline.store"),
        ("pipeline.archive.storage", "from pipeline.store import Store", "imports pipeline.store (store)"),
        ("pipeline.store.raw", "def f():\n    from pipeline.archive import ArchiveStorage", "(archive)"),
        ("pipeline.run.reprocess", "import fsspec", "reserved to pipeline.archive"),
        ("pipeline.store.raw", "from warcio.archiveiterator import ArchiveIterator", "reserved to pipeline.archive"),
        ("pipeline.archive.storage", "import requests", "reserved to pipeline.fetch"),
        ("pipeline.embedded", "def f():\n    import sqlalchemy", "reserved to pipeline.store"),
        ("pipeline.localdev", "QUERY = 'CREATE DATABASE x'", "holds SQL"),
        ("pipeline.newssite", "import requests", "reserved to pipeline.fetch"),
        ("pipeline.fetch.client", "from http.server import HTTPServer", "reserved to pipeline.newssite"),
        ("pipeline.run.ingest", "import socketserver", "reserved to pipeline.newssite"),
        ("pipeline.store.raw", "import socket", "reserved to pipeline.fetch"),
        ("pipeline.newssite", "from pipeline.run import run_ingest", "(run)"),
        ("pipeline.run.stages", "QUERY = 'SELECT id FROM articles'", "holds SQL"),
        ("pipeline.cli", "from airflow.sdk import Connection", "at import time"),
        ("pipeline.newthing", "import json", "(None)"),
    ],
)
def test_the_rules_catch_a_violation(module: str, source: str, expected: str) -> None:
    problems = violations(module, source) + ([f"{module} has no layer (None)"] if layer_of(module) is None else [])
    assert any(expected in p for p in problems), problems


def test_the_dag_rule_catches_a_violation() -> None:
    assert dag_violations("dags.x", "import pendulum\nfrom pipeline.orchestration import plan_run\n") == [
        "dags.x:2 imports pipeline.orchestration at the top of a DAG file"]
    assert dag_violations("dags.x", "import os\nfrom airflow.sdk import dag\n") == []
