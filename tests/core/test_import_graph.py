"""No import cycle inside segnet_core: every import statement counts, also those inside
functions (a cycle hidden in a function still ties the two modules together)."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "segnet_core"


def module_files(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module under `package` (packages by their
    __init__)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts).removesuffix(".__init__")] = path
    return modules


def _base(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports anywhere in its file. `from p import
    x` counts as importing p.x when that is a module, else p."""
    modules = module_files(package)
    graph = {}
    for module, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = _base(module, path, node)
                for alias in node.names:
                    if f"{base}.{alias.name}" in modules:
                        targets.add(f"{base}.{alias.name}")
                    elif base in modules:
                        targets.add(base)
        targets.discard(module)
        graph[module] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as [a, b, ..., a], or None."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once fully explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_segnet_core_has_no_import_cycle():
    graph = import_graph(CORE)
    assert len(graph) > 30 and "segnet_core.models" in graph["segnet_core.checkpoint"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    package = _package(tmp_path, {
        "__init__.py": "",
        "models/__init__.py": "from pkg.models.net import Net\n",
        "models/net.py": "def load():\n    from pkg.checkpoint import check\n",
        "checkpoint.py": "from pkg.models import Net\n\ndef check():\n    pass\n",
        "other.py": "from . import checkpoint\nfrom .models import net\n",
    })
    graph = import_graph(package)
    assert graph["pkg.other"] == {"pkg.checkpoint", "pkg.models.net"}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1]
    assert set(cycle) == {"pkg.models", "pkg.models.net", "pkg.checkpoint"}


def test_a_package_importing_its_own_modules_is_no_cycle(tmp_path):
    package = _package(tmp_path, {
        "__init__.py": "",
        "models/__init__.py": "from pkg.models.net import Net\n",
        "models/net.py": "from pkg.models.blocks import Block\nimport pkg.models.blocks\n",
        "models/blocks.py": "Block = object\n",
    })
    assert find_cycle(import_graph(package)) is None
