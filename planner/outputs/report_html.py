"""report.html: one page for a decision meeting, written with the output set.

The recommendation and why (its reason, what binds each plan, the warnings), the plans
side by side (compare.csv's rows, the recommended column marked), the figures the run drew
(embedded as data: URIs), the estimates the plans used and the site's inputs. The page
loads nothing: no script, no font, no stylesheet or image from elsewhere, so it opens
offline and prints as it shows. Sources' addresses are shown as text, never as links.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from planner.outputs.assumptions import EstimateUsed, estimates_used, site_inputs
from planner.outputs.compare import comparison_rows
from planner.outputs.records import BomRow, PlanSummary, SummaryDocument

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1b1b1b; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 22px 0 8px; border-bottom: 1px solid #ccc; }
.meta { color: #555; font-size: 12px; }
.rec { background: #eef6ee; border-left: 5px solid #2e7d32; padding: 10px 14px; font-size: 16px; }
.none { background: #fbeeee; border-left-color: #c62828; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; vertical-align: top; }
th { background: #f4f4f4; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
td[data-best], th.best { background: #eef6ee; }
.figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 12px; align-items: start; }
figure { margin: 0; border: 1px solid #ddd; padding: 6px; } figure img { width: 100%; height: auto; }
figcaption { font-size: 12px; color: #555; } .est { color: #8a4b00; font-weight: bold; }
details { margin-top: 8px; } .basis { font-size: 12px; color: #444; }
"""


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{escape(str(value))}</td>"
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    if isinstance(value, float):
        return f'<td class="n">{value:,.6g}</td>' if abs(value) < 1e6 else f'<td class="n">{value:,.0f}</td>'
    return f"<td>{escape(str(value))}</td>"


def _why(doc: SummaryDocument) -> str:
    rec = doc.recommendation
    if rec.scenario:
        head = f'<p class="rec"><b>Recommendation: {escape(rec.scenario)}</b> &mdash; {escape(rec.reason)}</p>'
    else:
        head = f'<p class="rec none"><b>No recommendation</b> &mdash; {escape(rec.reason)}</p>'
    items = []
    for name, sc in doc.scenarios.items():
        for line in sc.binding_constraints:
            items.append(f"<li><b>{escape(name)}</b> binds: {escape(line)}</li>")
        if not isinstance(sc, PlanSummary):
            items.append(f"<li><b>{escape(name)}</b>: {escape(sc.message)}</li>")
    warnings = dict.fromkeys(w for sc in doc.scenarios.values() if isinstance(sc, PlanSummary) for w in sc.warnings)
    items += [f"<li>warning: {escape(w)}</li>" for w in warnings]
    return head + (f"<ul>{''.join(items)}</ul>" if items else "")


def _side_by_side(doc: SummaryDocument) -> str:
    names = list(doc.scenarios)
    best = doc.recommendation.scenario
    head = "".join(f'<th class="{"best" if n == best else ""}">{escape(n)}</th>' for n in names)
    body = []
    for row in comparison_rows(doc):
        if row["metric"] == "recommendation" or all(row[n] in (None, "") for n in names):
            continue
        cells = "".join(_cell(row[n]).replace("<td", '<td data-best="1"', 1) if n == best else _cell(row[n])
                        for n in names)
        body.append(f"<tr><th>{escape(row['metric'])}</th>{cells}</tr>")
    return f'<table id="plans"><tr><th></th>{head}</tr>{"".join(body)}</table>'


def _figures(folder: Path, scenarios: Sequence[str]) -> str:
    """Every PNG the run wrote under plots/, embedded: the capex first, then each kind of
    figure with its scenarios side by side in the file's order."""
    def order(png: Path) -> tuple:
        for i, name in enumerate(scenarios):
            if png.stem.endswith("-" + name):
                return (png.stem[:-len(name) - 1], i)
        return ("", -1) if png.name == "capex.png" else (png.stem, -1)

    cards = []
    for png in sorted((folder / "plots").glob("*.png"), key=order):
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        cards.append(f'<figure><img alt="{escape(png.stem)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>plots/{escape(png.name)}</figcaption></figure>")
    return f'<div class="figs">{"".join(cards)}</div>' if cards else "<p>No figures were drawn.</p>"


def _estimates(doc: SummaryDocument, rows: Sequence[BomRow]) -> str:
    found = estimates_used(doc, rows)
    if not found:
        return "<p>No estimate: every figure the plans used has a vendor document.</p>"
    def value(e: EstimateUsed) -> str:
        if e.low == e.high:
            return _cell(e.low)
        return f'<td class="n">{e.low:,.6g} to {e.high:,.6g}<br><small>by length</small></td>'

    body = "".join(
        f'<tr><td>{escape(e.part)}</td><td>{escape(e.figure)}</td>{value(e)}<td>{escape(e.unit)}</td>'
        f'<td class="est">estimate</td><td>{escape(", ".join(e.scenarios))}</td>'
        f'<td class="basis">{escape(e.basis)}</td></tr>' for e in found)
    return ("<table id=\"estimates\"><tr><th>part</th><th>figure</th><th>value</th><th>unit</th><th>kind</th>"
            f"<th>scenarios</th><th>basis</th></tr>{body}</table>")


KEY_INPUTS = ("grid.", "power_price.", "economics.", "cooling.", "ai.", "scenarios.")


def _inputs(site: dict[str, Any]) -> str:
    rows = site_inputs(site)
    key = [(k, v) for k, v in rows if k.startswith(KEY_INPUTS)]
    rest = [(k, v) for k, v in rows if not k.startswith(KEY_INPUTS)]

    def table(items: list[tuple[str, Any]]) -> str:
        return "<table>" + "".join(f"<tr><th>{escape(k)}</th>{_cell(v)}</tr>" for k, v in items) + "</table>"

    return (table(key) + f"<details><summary>the other {len(rest)} inputs of the site file</summary>"
            f"{table(rest)}</details>")


def report_html(folder: Path, doc: SummaryDocument, rows: Sequence[BomRow], site: dict[str, Any]) -> str:
    """The page's text, embedding the figures found under ``folder``/plots."""
    title = f"{doc.site}: plan report"
    # no run id or time: the same plans give the same page (the set's manifest names the run)
    meta = f"planner {escape(doc.planner_version)}, solver {escape(doc.solver)}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class=\"meta\">{meta}</p>"
        f"<h2>Recommendation and why</h2>{_why(doc)}"
        f"<h2>The plans side by side</h2>{_side_by_side(doc)}"
        f"<h2>Figures</h2>{_figures(folder, list(doc.scenarios))}"
        "<h2>Estimates used</h2><p>Figures no vendor document gives, from the catalog's labelled estimates "
        f"tables, with their basis.</p>{_estimates(doc, rows)}"
        f"<h2>Assumptions: the site's inputs</h2>{_inputs(site)}"
        "</body></html>\n")


def write_report(path: Path, doc: SummaryDocument, rows: Sequence[BomRow], site: dict[str, Any]) -> None:
    """report.html at ``path``, with the figures already written beside it (plots/)."""
    path.write_text(report_html(path.parent, doc, rows, site), encoding="utf-8")
