"""The code's shape: core/ in layers that import one way, no import cycles, no Streamlit in the library, short modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from core.paths import PROJECT_ROOT

# core's packages from the bottom up; a module may import from its own package and from packages below it.
# Packages on the same rank are independent of each other.
LAYERS = [
    ("core.paths", "core.files"),
    ("core.circuit",),
    ("core.execution",),
    ("core.data",),
    ("core.faces",),
    ("core.learning",),
    ("core.results",),
    ("core.ibm", "core.server", "core.lessons"),
    ("core.commands", "core.__main__"),
]
PROJECT_PACKAGES = ("core", "ui", "tools", "views")
MAX_LIBRARY_LINES = 350


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PROJECT_PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


MODULES = project_modules()


def imports_of(path: Path) -> set[str]:
    """Every project module ``path`` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from core.ibm import submission" imports the module core.ibm.submission
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module for a in node.names]
        else:
            continue
        found |= {name for name in names if name.split(".")[0] in PROJECT_PACKAGES}
    return found


def layer_of(module: str) -> tuple[int, str]:
    for rank, packages in enumerate(LAYERS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return rank, package
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS")


def test_every_core_module_has_a_layer():
    for module in MODULES:
        if module.startswith("core."):
            layer_of(module)


def test_core_imports_run_one_way():
    wrong = []
    for module, path in MODULES.items():
        if not module.startswith("core."):
            continue
        rank, package = layer_of(module)
        for target in imports_of(path):
            if target == "core" or target.startswith("core.") is False:
                wrong.append(f"{module} imports {target}: the library never imports the app, its tools or tests")
                continue
            target_rank, target_package = layer_of(target)
            if target_rank > rank or (target_rank == rank and target_package != package):
                wrong.append(f"{module} ({package}) imports {target} ({target_package}): against the layers")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles_among_the_project_modules():
    graph = {module: {t for t in imports_of(path) if t in MODULES} for module, path in MODULES.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" → ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_library_never_imports_streamlit():
    offenders = [m for m, p in MODULES.items() if m.startswith("core") and "streamlit" in _third_party_imports(p)]
    assert not offenders


def _third_party_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_library_modules_are_short():
    lines = {m: len(p.read_text().splitlines()) for m, p in MODULES.items() if m.startswith("core")}
    long = {m: n for m, n in lines.items() if n > MAX_LIBRARY_LINES}
    assert not long, f"split these by concern (over {MAX_LIBRARY_LINES} lines): {long}"


@pytest.mark.parametrize("module", ["core.circuit.definition", "core.execution.settings", "ui.figures"])
def test_the_first_page_needs_no_simulator(module):
    """Drawing the circuit and checking where it runs import no simulator: the first visit stays quick."""
    code = f"import sys, {module}; print(sorted(m for m in ('pennylane', 'qiskit', 'cirq', 'jax') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
