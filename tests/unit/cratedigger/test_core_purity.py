"""The matching core imports no HTTP library, no asyncio and no sockets.

Each module is imported in a fresh interpreter: in this process, other tests (drivers, the
mock server) have long since imported aiohttp and requests.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src"

# The pure core. Modules not written yet are skipped, not failed.
CORE_MODULES = (
    "cratedigger.models",
    "cratedigger.errors",
    "cratedigger.normalize",
    "cratedigger.queries",
    "cratedigger.scoring",
    "cratedigger.protocol",
    "cratedigger.protocol.base",
    "cratedigger.protocol.api",
    "cratedigger.protocol.nextdata",
    "cratedigger.protocol.web",
    "cratedigger.flow",
    "cratedigger.pool",
    "cratedigger.known",
    "cratedigger.retry",
    "cratedigger.pacing",
    "cratedigger.exchange",
    "cratedigger.metrics",
    "cratedigger.headers",
    "cratedigger.credentials",
    "cratedigger.breaker",
    "cratedigger.drivers.job",
    "cratedigger.predict",
)
# What the core must not touch itself even where the module is loaded anyway: disk,
# compression, locks, clocks and randomness are the shell's, handed in where needed.
NOT_IN_THE_CORE = ("sqlite3", "zlib", "threading", "time", "random", "os", "asyncio")
CLOCK_READS = ("now", "utcnow", "today", "monotonic", "perf_counter", "time")
FORBIDDEN = (
    "requests",
    "aiohttp",
    "asyncio",
    "urllib3",
    "httpx",
    "socket",
    "ssl",
    "selectors",
    "http.client",
)

_PROBE = """
import importlib, json, sys
name, forbidden = sys.argv[1], sys.argv[2:]
try:
    importlib.import_module(name)
except ModuleNotFoundError as exc:
    if exc.name != name:
        raise
    print(json.dumps(None))
else:
    print(json.dumps(sorted(m for m in forbidden if m in sys.modules)))
"""


def imported_forbidden(module: str) -> list[str] | None:
    """Forbidden modules loaded by importing `module` afresh; None if it does not exist."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, module, *FORBIDDEN],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"importing {module} failed:\n{done.stderr}"
    found: list[str] | None = json.loads(done.stdout)
    return found


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_io_library(module: str) -> None:
    found = imported_forbidden(module)
    if found is None:
        pytest.skip(f"{module} does not exist yet")
    assert found == [], f"{module} pulls in {', '.join(found)}"


def _source(module: str) -> Path | None:
    relative = Path(*module.split("."))
    for candidate in (SRC / relative.with_suffix(".py"), SRC / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _reads_a_clock(node: ast.AST) -> bool:
    """`datetime.now()`, `time.monotonic()` and the like."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_READS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("datetime", "time", "date")
    )


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_takes_no_lock_clock_disk_or_randomness(module: str) -> None:
    path = _source(module)
    if path is None:
        pytest.skip(f"{module} does not exist yet")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in NOT_IN_THE_CORE]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in NOT_IN_THE_CORE:
                found.append(node.module)
        elif _reads_a_clock(node):
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            assert isinstance(node.func.value, ast.Name)
            found.append(f"{node.func.value.id}.{node.func.attr}() at line {node.lineno}")
    assert found == [], f"{module} uses {', '.join(found)}"


def test_the_probe_sees_an_io_import() -> None:
    assert "socket" in (imported_forbidden("http.client") or [])
    assert imported_forbidden("cratedigger.no_such_module") is None


def test_public_names_resolve_lazily() -> None:
    """Every name in cratedigger.__all__ resolves, and importing the package alone is light."""
    code = (
        "import sys, cratedigger\n"
        "assert 'aiohttp' not in sys.modules and 'requests' not in sys.modules\n"
        "missing = [n for n in cratedigger.__all__ if getattr(cratedigger, n, None) is None]\n"
        "assert not missing, missing\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
