"""The import graph of the project's packages (ARCHITECTURE.md): no cycle between modules, counting the
imports inside functions too, and each layer imports only the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest_helpers import ROOT

# Lowest first; a package may import its own modules and those of the layers below.
LAYERS = (
    ("learnact.settings",),
    ("environments", "learnact.llm"),
    ("prompts", "learnact.actions"),
    ("nodes",),
    ("graphs",),
    ("learnact.viz",),
    ("learnact.cli",),
)
PACKAGES = tuple(p for layer in LAYERS for p in layer)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imported(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> list[str]:
    """The dotted names an import statement reaches (``from a import b`` reaches ``a.b`` when it is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([base] if base else []))
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports, anywhere in its file (inside functions too)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            names = _imported(node, module, path)
            if isinstance(node, ast.ImportFrom):  # `from a import b`: the module a.b if it is one, else a
                names = [n for n in names[:-1] if n in modules] or names[-1:]
            for name in names:
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    graph[module].add(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"b"}}) == []


def test_no_import_cycle_between_the_project_s_modules():
    graph = import_graph()
    assert len(graph) > 80 and "learnact.cli.resolve" in graph["learnact.cli.commands"]  # the graph is really read
    assert cycles(graph) == []


def package_of(module: str) -> str:
    """The entry of LAYERS a module belongs to (``learnact.cli.main`` -> ``learnact.cli``, ``nodes.act`` -> ``nodes``)."""
    return next(p for p in PACKAGES if module == p or module.startswith(p + "."))


def test_each_layer_imports_only_the_layers_below():
    layer_of = {package: n for n, layer in enumerate(LAYERS) for package in layer}
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in targets
        if target != "learnact"
        and (
            layer_of[package_of(target)] > layer_of[package_of(module)]
            or (
                layer_of[package_of(target)] == layer_of[package_of(module)]
                and package_of(target) != package_of(module)
            )
        )
    )
    assert wrong == []


# ---------------------------------------------------------------- sizes
MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60
# Still over the limits (issue 16, item 8 and beyond): each may shrink, none may grow, and none may join.
KNOWN_LONG = {}


def long_source() -> dict[str, int]:
    """Source files (tests aside) over MAX_FILE_LINES lines and functions over MAX_FUNCTION_LINES, with their lengths."""
    found = {}
    paths = [
        ROOT / "run.py",
        *(p for d in (*PACKAGES, "benchmarks") for p in sorted((ROOT / d.replace(".", "/")).rglob("*.py"))),
    ]
    for path in paths:
        name, text = str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_FILE_LINES:
            found[name] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
            ):
                found[f"{name}:{node.name}"] = node.end_lineno - node.lineno + 1
    return found


def test_no_source_file_or_function_grows_past_the_limits():
    found = long_source()
    assert {k: v for k, v in found.items() if k not in KNOWN_LONG or v > KNOWN_LONG[k]} == {}
    assert sorted(set(KNOWN_LONG) - set(found)) == [], "now within the limits: take it off KNOWN_LONG"


# ---------------------------------------------------------------- records
def test_every_stream_event_has_its_record_type():
    """nodes/records.py is the one home of the stream events: every ``emit("name", key=...)`` in the project names an
    event of ``EVENTS``, with only keys its TypedDict declares, and sends every key the TypedDict requires."""
    from nodes.records import EVENTS

    wrong, seen = [], set()
    for module, path in project_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("emit", "_emit")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                continue
            name, keys = node.args[0].value, {k.arg for k in node.keywords}
            seen.add(name)
            kind = EVENTS.get(name)
            if kind is None:
                wrong.append(f"{module}:{node.lineno} {name}: no record type in nodes/records.py")
                continue
            unknown = keys - {None} - kind.__required_keys__ - kind.__optional_keys__
            missing = set() if None in keys else kind.__required_keys__ - keys - {"event", "scope"}  # None: a **splat
            if unknown or missing:
                wrong.append(f"{module}:{node.lineno} {name}: unknown {sorted(unknown)}, missing {sorted(missing)}")
    assert wrong == []
    assert seen >= {"step", "round_scored", "episode_recorded", "learning_done"}  # the calls are really found
