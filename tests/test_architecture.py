"""The package's shape (docs/architecture.md): imports go one way, from a stage to the stages
before it, with no cycle; a long module says at its top why it is long."""

from __future__ import annotations

import ast

import networkx as nx

from .conftest import ROOT

PACKAGE = ROOT / "planner"
# the stages in the order the data pass through them, last first: a module imports only from
# its own stage and the stages after it in this list (network and energy are independent)
ORDER = ("app", "outputs", "model", ("network", "energy"), "site", "parts")
LONG = 450  # lines: "no module over about 400 lines without a reason written at its top"


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _graph() -> nx.DiGraph:
    """Every import between planner modules, at the top or inside a function, TYPE_CHECKING too."""
    modules = _modules()
    g = nx.DiGraph()
    for name, tree in modules.items():
        g.add_node(name)
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("planner"):
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            g.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return g


def _rank(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 3:
        return None  # the package's root: errors, constants, the TOML helpers, __main__
    return next(i for i, s in enumerate(ORDER) if parts[1] in (s if isinstance(s, tuple) else (s,)))


def test_no_import_cycle():
    g = _graph()
    assert g.number_of_edges() > 100  # the walk found the imports
    assert list(nx.simple_cycles(g)) == []


def test_a_stage_imports_only_itself_and_the_stages_before_it():
    wrong = []
    for a, b in _graph().edges:
        ra, rb = _rank(a), _rank(b)
        if a == "planner.__main__":
            continue  # python -m planner: the entry point
        if rb is None:
            continue  # every stage may use the root modules
        if ra is None or rb < ra or (ra == rb and a.split(".")[1] != b.split(".")[1]):
            wrong.append(f"{a} -> {b}")
    assert wrong == []


def test_a_long_module_says_why_at_its_top():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > LONG:
            doc = ast.get_docstring(ast.parse(text)) or ""
            assert "Why" in doc or "lines" in doc, f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines, no reason"


def test_scenario_inputs_are_frozen():
    """Issue 18 point 2: what a model is built from cannot change after prepare() made it
    (its annuity and step-mask memos fill, its fields do not move)."""
    import dataclasses

    import pytest

    from planner.model.scenario import ScenarioInputs

    assert ScenarioInputs.__dataclass_params__.frozen
    memo = {f.name for f in dataclasses.fields(ScenarioInputs) if not f.init}
    assert memo == {"annuities", "all_steps"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        object.__new__(ScenarioInputs).__setattr__("capacity_mw", 1.0)
