"""The package's layering, as docs/reference.md documents it: every import (at module level or inside
a function) goes to the importer's own layer or a lower one, and no chain of imports comes back to
where it started."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dcgan_inversion"
LAYER_LINE = re.compile(r"^(\d+)\. ((?:`[\w.]+`(?:, )?)+)")


def documented_layers() -> dict[str, int]:
    """{'dcgan_inversion.infra': 1, ...} from the numbered list under 'Layers' in docs/reference.md."""
    layers = {}
    for line in (ROOT / "docs" / "reference.md").read_text(encoding="utf-8").splitlines():
        match = LAYER_LINE.match(line)
        if match:
            for name in re.findall(r"`([\w.]+)`", match.group(2)):
                layers[f"dcgan_inversion.{name}"] = int(match.group(1))
    return layers


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _known(name: str, known) -> str:
    """The module `name` names, or the package it is an attribute of."""
    while name not in known and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports(name: str, path: Path, known) -> set[str]:
    """Every dcgan_inversion module `name` imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {_known(alias.name, known) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            targets |= {_known(f"{base}.{alias.name}", known) for alias in node.names}
    return {target for target in targets if target.startswith("dcgan_inversion") and target != name}


def layer_of(name: str, layers: dict[str, int]) -> int | None:
    while name not in layers and "." in name:
        name = name.rsplit(".", 1)[0]
    return layers.get(name)


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_every_module_has_a_documented_layer():
    layers = documented_layers()
    assert layers, "docs/reference.md lists no layers"
    unplaced = sorted(name for name in modules() if name != "dcgan_inversion" and layer_of(name, layers) is None)
    assert not unplaced, f"modules in no layer of docs/reference.md: {unplaced}"


def test_no_module_imports_from_a_higher_layer():
    layers = documented_layers()
    upward = [f"{source} (layer {layer_of(source, layers)}) imports {target} (layer {layer_of(target, layers)})"
              for source, targets in graph().items() if source != "dcgan_inversion"
              for target in targets if target != "dcgan_inversion" and layer_of(target, layers) > layer_of(source, layers)]
    assert not upward, "\n".join(upward)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_an_upward_import_is_caught(tmp_path):
    """The walker sees imports inside functions too (the way the old cycle hid)."""
    source = tmp_path / "module.py"
    source.write_text("def f():\n    from dcgan_inversion.paper.experiments import table1\n", encoding="utf-8")
    known = {"dcgan_inversion.paper.experiments": None, "dcgan_inversion.data.unseen": None}
    assert imports("dcgan_inversion.data.unseen", source, known) == {"dcgan_inversion.paper.experiments"}
