"""The layering holds (docs/ARCHITECTURE.md): what each layer may import, checked on every import
statement of the package, those inside functions included; and the static checks pass."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "netdiag"

# layer -> modules it must never import (prefixes of dotted names)
FORBIDDEN = {
    "netdiag.vocab": ("netdiag.",),
    "netdiag.facts": ("netdiag.probes", "netdiag.rules", "netdiag.reasoner", "netdiag.render", "netdiag.live",
                      "netdiag.why", "netdiag.check", "netdiag.cli"),
    "netdiag.parsers": ("netdiag.probes", "netdiag.rules", "netdiag.reasoner", "netdiag.render", "netdiag.live",
                        "netdiag.why", "netdiag.check", "netdiag.cli", "netdiag.engine_api"),
    "netdiag.rules": ("netdiag.probes", "netdiag.reasoner", "netdiag.render", "netdiag.live", "netdiag.why",
                      "netdiag.check", "netdiag.cli", "netdiag.engine_api", "netdiag.bundle"),
    "netdiag.reasoner": ("netdiag.probes", "netdiag.render", "netdiag.live", "netdiag.why", "netdiag.check",
                         "netdiag.cli", "netdiag.engine_api", "netdiag.bundle"),
    "netdiag.context": ("netdiag.probes", "netdiag.rules", "netdiag.reasoner", "netdiag.render", "netdiag.live"),
    "netdiag.outbound": ("netdiag.probes", "netdiag.rules", "netdiag.reasoner", "netdiag.render", "netdiag.live"),
    "netdiag.overlay": ("netdiag.probes", "netdiag.rules", "netdiag.reasoner", "netdiag.render", "netdiag.live"),
    "netdiag.render": ("netdiag.probes", "netdiag.live", "netdiag.why", "netdiag.check", "netdiag.cli",
                       "netdiag.engine_api", "netdiag.offline", "netdiag.ping"),
}


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out += [f"{node.module}.{a.name}" for a in node.names]
    return out


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_each_layer_imports_only_what_it_may():
    broken = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        for layer, banned in FORBIDDEN.items():
            if name != layer and not name.startswith(layer + "."):
                continue
            broken += [f"{name} imports {imp}" for imp in imports_of(path)
                       if any(imp == b.rstrip(".") or imp.startswith(b if b.endswith(".") else b + ".")
                              or imp == b for b in banned)]
    assert not broken, "\n".join(broken)


def test_the_layering_test_sees_imports_inside_functions(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from netdiag.probes.reach import probe_tcp\n")
    assert "netdiag.probes.reach" in imports_of(f)


def _tool(name: str) -> list[str]:
    exe = shutil.which(name, path=str(Path(sys.executable).parent))
    if not exe:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return [exe]


def test_ruff_finds_nothing_in_the_package():
    p = subprocess.run(_tool("ruff") + ["check", "--no-cache", str(PACKAGE)], capture_output=True, text=True,
                       cwd=PACKAGE.parent)
    assert p.returncode == 0, p.stdout + p.stderr


def test_mypy_strict_passes_on_the_pure_core():
    """facts, parsers, rules, reasoner and context (the files listed in pyproject.toml's [tool.mypy])."""
    p = subprocess.run(_tool("mypy"), capture_output=True, text=True, cwd=PACKAGE.parent)
    assert p.returncode == 0, p.stdout + p.stderr
