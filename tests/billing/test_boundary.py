"""One module talks to Stripe (as one module talks to Replicate)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("billing", "accounts", "core", "trainings", "gallery", "moderation", "events", "config")


def _imports_stripe(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] == "stripe" for alias in node.names
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] == "stripe"
        ):
            return True
    return False


def test_only_the_gateway_imports_stripe():
    importers = {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if _imports_stripe(path)
    }
    assert importers == {"billing/stripe_gateway.py"}
