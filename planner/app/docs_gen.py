"""Generate docs/site-reference.md from the pydantic site models (the one declaration),
docs/summary-reference.md and docs/summary.schema.json from the output records
(planner/outputs/records.py), and docs/portfolio-reference.md from the portfolio file's
models and portfolio.json's records (planner/site/portfolio.py, planner/outputs/portfolio.py).

Run: python -m planner.app.docs_gen   (tests/test_docs.py fails when a file is stale)
"""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from planner.site.schema import Site

HEADER = """# Site file reference

Generated from the pydantic models in `planner/site/schema.py` by `python -m planner.app.docs_gen`;
do not edit by hand. Units live in key names. Unknown keys are rejected with a
"did you mean". Relative paths resolve against the site file's folder.
"""


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" (optional)" if type(None) in args else "")
    if origin is typing.Literal:
        return " | ".join(f'"{a}"' for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"table of {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def _models(model: type[BaseModel], seen: list) -> None:
    if model in seen:
        return
    seen.append(model)
    for field in model.model_fields.values():
        for inner in _inner(field.annotation):
            _models(inner, seen)


def _inner(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out += _inner(arg)
    return out


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "its defaults"
    if value in ([], {}):
        return "empty"
    if value == "":
        return '`""`'
    return "none" if value is None else f"`{value}`"


def site_reference() -> str:
    models: list[type[BaseModel]] = []
    _models(Site, models)
    parts = [HEADER]
    for model in models:
        doc = (model.__doc__ or "").strip().splitlines()
        parts.append(f"## {model.__name__}\n")
        if doc:
            parts.append(" ".join(line.strip() for line in doc if line.strip()) + "\n")
        parts.append("| key | type | default | meaning |")
        parts.append("| --- | --- | --- | --- |")
        for name, field in model.model_fields.items():
            key = field.alias or name
            parts.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | "
                         f"{(field.description or '').replace('|', '/')} |")
        parts.append("")
    return "\n".join(parts)


SUMMARY_HEADER = """# summary.json and bom.csv reference

Generated from the pydantic records in `planner/outputs/records.py` by `python -m planner.app.docs_gen`;
do not edit by hand. The same records give the JSON Schema of summary.json,
[summary.schema.json](summary.schema.json). Keys appear in the file in the order below; a
scenario with a plan is a [PlanSummary](#plansummary), one without (status infeasible,
unbounded, not_solved or error) a [NoPlanSummary](#noplansummary). "null" is JSON's null;
a key marked "absent when null" is left out instead.
"""


def _json_type(annotation: typing.Any) -> str:
    """A field's type in JSON's words (number, integer, text, list, table, null)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _json_type(args[0])
    if origin in (typing.Union, types.UnionType):
        if set(args) == {int, float}:
            return "number"
        kinds = [_json_type(a) for a in args if a is not type(None)]
        return " or ".join(kinds) + (" or null" if type(None) in args else "")
    if origin is typing.Literal:
        return " / ".join(f'"{a}"' for a in args)
    if origin is list:
        return f"list of {_json_type(args[0])}"
    if origin is dict:
        return f"table of {_json_type(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return {int: "integer", float: "number", str: "text", bool: "true or false"}.get(annotation, "any")


def summary_reference() -> str:
    """docs/summary-reference.md: each record of summary.json and bom.csv, its keys with type,
    unit and meaning."""
    from planner.outputs.records import BomRow, SummaryDocument, unit_of

    models: list[type[BaseModel]] = []
    _models(SummaryDocument, models)
    parts = [SUMMARY_HEADER]
    models.append(BomRow)
    for model in models:
        doc = (model.__doc__ or "").strip().splitlines()
        parts.append(f"## {model.__name__}\n")
        if doc:
            parts.append(" ".join(line.strip() for line in doc if line.strip()) + "\n")
        if model is BomRow:
            parts.append("bom.csv has one row per part, with these columns in this order (an empty cell for "
                         "null).\n")
        parts.append("| key | type | unit | meaning |")
        parts.append("| --- | --- | --- | --- |")
        for name, field in model.model_fields.items():
            absent = " (absent when null)" if field.exclude_if is not None else ""
            parts.append(f"| `{name}` | {_json_type(field.annotation)}{absent} | {unit_of(field) or '-'} | "
                         f"{(field.description or '').replace('|', '/')} |")
        parts.append("")
    return "\n".join(parts)


def summary_schema() -> str:
    """docs/summary.schema.json: the JSON Schema (draft 2020-12) of summary.json."""
    from planner.outputs.records import SummaryDocument

    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "summary.json",
              **{k: v for k, v in SummaryDocument.model_json_schema().items() if k != "title"}}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


PORTFOLIO_HEADER = """# Portfolio file and portfolio.json reference

Generated from the pydantic models in `planner/site/portfolio.py` (the portfolio file) and
`planner/outputs/portfolio.py` (portfolio.json) by `python -m planner.app.docs_gen`; do not edit
by hand. `planner portfolio FILE.toml` solves each site file alone (each must be valid alone;
its path resolves against the portfolio file's folder), then chooses per site one plan and its
start under the shared constraints (a MILP solved by HiGHS), and writes portfolio.json in the
output folder, with bom.csv (the links' parts) and plots/interconnect.png (the sites placed from
the route lengths, each route with what its link carries) when the file has routes. Unknown keys
are rejected with a "did you mean". An example: `sites/portfolio-texas/portfolio.toml`.

The timing rule: a plan started s months late has every monthly flow moved s months later, so
its NPV is the site's NPV x (1 + r_m)^-s (r_m the monthly rate of the site's discount rate), its
capex falls in portfolio year floor(s / 12) + 1 and its AI load comes online at the site's AI
start month + s. The months of a delay earn nothing in the portfolio.

The links between the sites are in the optimisation: before it, the link on every route is
sized for every pair of the two sites' plans that both run an AI cluster (the route's `gbps`,
or `share_of_bisection` of the smaller of the two clusters' bisection: each pair its own need,
exact, not a bound), and the cheapest priced option's cost is paid when both sites take those
plans: in the capex budget of the year of the later of their two starts, and taken off the NPV
discounted from that month at the lower of the two sites' rates. A pair whose link no option
prices fully is left out of the budget and said so in `interconnect_notes`. "One by one" pays
the links its choices need too. A link's cost includes its dark fibre (a labelled estimate per
fibre-pair-km). Each end of a link draws its parts' power (modules, mux/demux units, a booster
and a pre-amplifier per fibre pair) on its site's grid: its energy, at that site's prices and
PUE as the site prices its own network power, runs from the later of the two AI starts to the
earlier end of the two plans' horizons and is taken off the NPV discounted at that site's rate;
a link whose end does not fit its site's grid beside the AI load at every step cannot join
those two plans. The in-line amplifier sites' power is counted in the link's power, but their
energy is not priced (they are on neither site's grid).

Each site also has a "do nothing" choice worth 0: the site leaves the portfolio. An existing
mine's plans count its mining before the AI start in their NPV, so to weigh a conversion against
the mine as it is, give the site file a scenario that keeps the miners (a hybrid with
`max_gpus = 0`, as in `sites/portfolio-texas/mine-a.toml`). A site whose plans add no value, have
no plan, or all break the total budget is reported as one that cannot help, with the reason.
The columns are the plans the sites' own solves give, one per scenario (the size that is best
for the site alone), and one per scenario and size in a site's `sizes_gpus`: each size caps the
site's GPUs and is another solve by the site's own optimizer, whose best plan within the cap is
offered (a cap that changes nothing adds nothing). A size between those is not a column, so a
target the sites could meet with larger clusters than their own best is reported as
infeasible: give such a site a scenario of that size (a scenario's `min_gpus`) to offer it.
What binds an optimal portfolio
is named two ways: a shared row at its bound, and a shared
family whose removal would raise the NPV (with by how much). An infeasible one (exit 1) names
each family no choice of plans can meet with its least shortfall, or the families that
conflict.
"""


def _key_table(model: type[BaseModel], json_types: bool) -> list[str]:
    from planner.outputs.records import unit_of

    doc = (model.__doc__ or "").strip().splitlines()
    parts = [f"### {model.__name__}\n"]
    if doc:
        parts.append(" ".join(line.strip() for line in doc if line.strip()) + "\n")
    if json_types:
        parts += ["| key | type | unit | meaning |", "| --- | --- | --- | --- |"]
        parts += [f"| `{name}` | {_json_type(f.annotation)} | {unit_of(f) or '-'} | "
                  f"{(f.description or '').replace('|', '/')} |" for name, f in model.model_fields.items()]
    else:
        parts += ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        parts += [f"| `{f.alias or name}` | {_type_name(f.annotation)} | {_default(f)} | "
                  f"{(f.description or '').replace('|', '/')} |" for name, f in model.model_fields.items()]
    return [*parts, ""]


def portfolio_reference() -> str:
    """docs/portfolio-reference.md: the portfolio file's keys, then portfolio.json's records."""
    from planner.outputs.portfolio import PortfolioDocument
    from planner.site.portfolio import Portfolio

    parts = [PORTFOLIO_HEADER, "## The portfolio file\n"]
    models: list[type[BaseModel]] = []
    _models(Portfolio, models)
    for model in models:
        parts += _key_table(model, json_types=False)
    parts.append("## portfolio.json\n")
    records: list[type[BaseModel]] = []
    _models(PortfolioDocument, records)
    for model in records:
        parts += _key_table(model, json_types=True)
    return "\n".join(parts)


GENERATED = {"site-reference.md": site_reference, "summary-reference.md": summary_reference,
             "summary.schema.json": summary_schema, "portfolio-reference.md": portfolio_reference}


def write(root: Path | None = None) -> list[Path]:
    """Write every generated document into ``root``/docs."""
    root = root or Path(__file__).resolve().parents[2]
    paths = []
    for name, make in GENERATED.items():
        path = root / "docs" / name
        path.write_text(make(), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write():
        print(written)
