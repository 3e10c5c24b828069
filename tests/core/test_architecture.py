"""Rules of the code's shape that a change could quietly break."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "accounts", "trainings", "gallery", "config")
MAX_MODULE_LINES = 500


def _modules(*packages: str) -> list[Path]:
    return sorted(
        path
        for package in packages
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_the_gateway_imports_the_replicate_client():
    gateway = ROOT / "core" / "replicate_gateway"
    offenders = [
        str(path.relative_to(ROOT))
        for path in _modules(*APPS)
        if gateway not in path.parents
        and any(name == "replicate" or name.startswith("replicate.") for name in _imported(path))
    ]
    assert offenders == []


def test_core_imports_no_app_and_not_the_config_layer():
    """core is what the apps build on; the config layer only wires things together."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in _imported(path)
            if name.split(".")[0] in ("accounts", "trainings", "gallery", "config")
        )
        for path in _modules("core")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_module_grows_past_the_size_where_it_should_be_split():
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in _modules(*APPS)
    }
    assert {path: lines for path, lines in sizes.items() if lines > MAX_MODULE_LINES} == {}
