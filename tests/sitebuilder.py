"""Site files for tests, built from parts instead of copied texts.

A test names the figures its hand calculation rests on (the grid, the price, the fleet, the
AI block, the economics) and :func:`site` writes a complete site file around them, in the
order and spelling of the example sites. :func:`edit` changes an existing site's values by
dotted key through tomlkit (comments and layout kept) and refuses a key the site does not
have: a text replacement that matches nothing would leave a test checking the unedited
site without a word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomlkit

# The economics most hand calculations use: one undiscounted year, a round bitcoin price and
# network, the post-2024 subsidy (3.125 BTC a block).
ONE_YEAR = {"discount_rate": 0.0, "horizon_years": 1, "btc_price_usd": 100000, "network_hashrate_ehs": 1000,
            "block_subsidy_btc": 3.125}

S19_XP = "antminer-s19-xp"


def flat(usd_per_mwh: float) -> dict[str, Any]:
    """A flat price, USD/MWh."""
    return {"kind": "flat", "usd_per_mwh": usd_per_mwh}


def site(
    name: str = "test site",
    *,
    capacity_mw: float,
    price: Mapping[str, Any],
    economics: Mapping[str, Any],
    scenarios: Mapping[str, Mapping[str, Any]],
    cooling: Mapping[str, Any] | None = None,
    fleet: Mapping[str, Any] | None = None,
    miners: Iterable[Mapping[str, Any]] = (),
    ai: Mapping[str, Any] | None = None,
    buildings: Iterable[Mapping[str, Any]] = (),
    costs: Mapping[str, float] | None = None,
    grid: Mapping[str, Any] | None = None,
    hosting: Mapping[str, Any] | None = None,
    routes: Iterable[Mapping[str, Any]] = (),
) -> str:
    """A site file's text. ``price`` is the ``[power_price]`` table (see :func:`flat`);
    ``fleet`` the ``[fleet]`` keys besides its miner blocks (``miners``); the rest are the
    tables of the same names (docs/site-reference.md). Values that are mappings inside a
    building (a conversion) are written inline, as the example sites write them."""
    doc = tomlkit.document()
    doc["schema"] = 1
    doc["name"] = name
    doc["grid"] = {"capacity_mw": capacity_mw, **(grid or {})}
    doc["power_price"] = _table(price)
    if cooling:
        doc["cooling"] = dict(cooling)
    blocks = [dict(b) for b in miners]
    if fleet or blocks:
        table = tomlkit.table()
        for key, value in (fleet or {}).items():
            table[key] = value
        if blocks:
            array = tomlkit.aot()
            for block in blocks:
                array.append(_table(block))
            table["miners"] = array
        doc["fleet"] = table
    if ai:
        doc["ai"] = dict(ai)
    doc["economics"] = dict(economics)
    doc["scenarios"] = {key: _table(value) for key, value in scenarios.items()}
    for name, items in (("buildings", buildings), ("routes", routes)):
        tables = [_table(item) for item in items]
        if tables:
            array = tomlkit.aot()
            for table in tables:
                array.append(table)
            doc[name] = array
    if costs:
        doc["costs"] = dict(costs)
    if hosting:
        doc["hosting"] = _table(hosting)
    return tomlkit.dumps(doc)


def _table(values: Mapping[str, Any]):
    """A table whose mapping values are inline tables (``conversion = { ... }``) and whose
    lists of mappings are arrays of inline tables (``periods``/``seasons`` stay tables)."""
    table = tomlkit.table()
    for key, value in values.items():
        if isinstance(value, Mapping):
            inline = tomlkit.inline_table()
            inline.update(value)
            table[key] = inline
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            array = tomlkit.aot()
            for item in value:
                array.append(_table(item))
            table[key] = array
        else:
            table[key] = value
    return table


_INDEX = re.compile(r"^(.*)\[(\d+)\]$")


def edit(source: str | Path, changes: Mapping[str, Any] | None = None, *, remove: Iterable[str] = (),
         add: Mapping[str, Any] | None = None) -> str:
    """``source`` (a site's text, or its path) with values changed by dotted key:
    ``{"grid.capacity_mw": 80, "fleet.miners[0].count": 10}``. Each key in ``changes`` and
    ``remove`` must be in the site (KeyError otherwise); ``add`` sets keys that may be new
    (their table must exist)."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    doc = tomlkit.parse(text)
    for key, value in (changes or {}).items():
        parent, last = _walk(doc, key)
        if last not in parent:
            raise KeyError(f"{key!r} is not in the site")
        parent[last] = value
    for key, value in (add or {}).items():
        parent, last = _walk(doc, key)
        parent[last] = value
    for key in remove:
        parent, last = _walk(doc, key)
        if last not in parent:
            raise KeyError(f"{key!r} is not in the site")
        del parent[last]
    return tomlkit.dumps(doc)


def _walk(doc, key: str):
    parts = key.split(".")
    node = doc
    for part in parts[:-1]:
        match = _INDEX.match(part)
        if match:
            node = node[match.group(1)][int(match.group(2))]
        else:
            if part not in node:
                raise KeyError(f"{part!r} of {key!r} is not in the site")
            node = node[part]
    return node, parts[-1]
