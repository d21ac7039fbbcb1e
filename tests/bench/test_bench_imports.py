"""Every name the benchmarks import exists.

The benchmark modules import most of what they use inside their functions,
so that ``python -m tests.bench`` can set Django up first. A name renamed or
moved elsewhere then breaks ``make bench`` only when it reaches that
benchmark, minutes into a run, and no test notices. This test reads each
module's imports, at any depth, and checks each one resolves.
"""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import tests.bench

BENCH_DIR = Path(tests.bench.__file__).parent


def _modules():
    return sorted(info.name for info in pkgutil.iter_modules([str(BENCH_DIR)]))


def _imports(module_name):
    """(line, module, name or None) for every import statement in a module."""
    tree = ast.parse((BENCH_DIR / f"{module_name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = "tests.bench"
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module
            for alias in node.names:
                yield node.lineno, base, alias.name


@pytest.mark.parametrize("module_name", _modules())
def test_every_import_of_a_benchmark_module_resolves(module_name):
    missing = []
    for line, module, name in _imports(module_name):
        try:
            imported = importlib.import_module(module)
        except ImportError as error:
            missing.append(f"line {line}: {module} ({error})")
            continue
        if name is None or name == "*" or hasattr(imported, name):
            continue
        try:
            importlib.import_module(f"{module}.{name}")
        except ImportError:
            missing.append(f"line {line}: {name} from {module}")
    assert not missing, f"tests/bench/{module_name}.py: " + "; ".join(missing)
