"""Part catalogs: the bundled catalog and user overlays loaded from TOML into a :class:`Catalog`.

Every entry carries its ``source`` and ``as_of``; figures carry units in their names.
A figure no source gives is absent (``None``), and code that needs it says so.
Overlay folders are read after the bundled catalog and replace entries by key. What an
entry may hold is declared in :mod:`planner.parts.models`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.errors import InputError, Problem, did_you_mean, display_path, dotted
from planner.parts.kinds import SINGULAR
from planner.parts.models import (
    KINDS,
    PART_KINDS,
    POWER_FIELDS,
    ROLES,
    TABLES,
    Accelerator,
    Estimate,
    Miner,
    MissingPower,
    MissingRole,
    Optic,
    PowerFigure,
    Server,
    Switch,
)
from planner.tomlio import read_toml
from planner.tomlpos import line_of


@dataclass(frozen=True)
class CatalogEntry:
    """Where an entry came from, for messages and for ``catalog show``."""

    kind: str
    item: Any
    file: str
    lines: dict[str, int | None] = field(default_factory=dict, compare=False, repr=False)  # field -> line ("": entry)

    def line(self, name: str = "") -> int | None:
        """The line of field ``name`` in :attr:`file`; the entry's own line when the field is not written."""
        return self.lines.get(name, self.lines.get(""))


@dataclass
class Catalog:
    """All parts by kind and key, plus the estimates table and its origin."""

    entries: dict[str, dict[str, CatalogEntry]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    dirs: tuple[str, ...] = ()
    power_overrides: dict[str, float] = field(default_factory=dict)
    # kind -> (entries of the kind when made, its sorted view): the fabric counter asks for
    # the switches and optics thousands of times a solve. The entries are filled by
    # load_catalog and not changed after; a kind whose count changed is sorted again.
    _views: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict, init=False, repr=False,
                                                          compare=False)
    # what the stages derive from this catalog alone and ask for again and again (the media
    # chosen for a link, by what decides it): a new catalog, or one with other power
    # figures (with_power_overrides), starts empty
    memo: dict[tuple, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def kind(self, kind: str) -> dict[str, Any]:
        """Entries of one kind by key, sorted by key (a view kept between calls: read it,
        never change it)."""
        entries = self.entries[kind]
        held = self._views.get(kind)
        if held is None or held[0] != len(entries):
            held = self._views[kind] = (len(entries), {k: e.item for k, e in sorted(entries.items())})
        return held[1]

    @property
    def accelerators(self) -> dict[str, Accelerator]:
        return self.kind("accelerators")

    @property
    def servers(self) -> dict[str, Server]:
        return self.kind("servers")

    @property
    def miners(self) -> dict[str, Miner]:
        return self.kind("miners")

    @property
    def switches(self) -> dict[str, Switch]:
        return self.kind("switches")

    @property
    def optics(self) -> dict[str, Optic]:
        return self.kind("optics")

    @property
    def access_switch(self) -> str:
        """Key of the switch of the out-of-band and miner access networks (the role ``access-switch``).

        Raises :class:`MissingRole` when no catalog file names one (``prepare`` checks first
        and reports it as a problem)."""
        entry = self.entries["roles"].get("access-switch")
        if entry is None:
            raise MissingRole("access-switch")
        return str(entry.item.part)

    def find(self, key: str) -> CatalogEntry | None:
        """The part (not estimate) with this key, whatever its kind."""
        for kind in PART_KINDS:
            if key in self.entries[kind]:
                return self.entries[kind][key]
        return None

    def part_keys(self) -> list[str]:
        return sorted(k for kind in PART_KINDS for k in self.entries[kind])

    def estimate(self, key: str) -> Estimate | None:
        entry = self.entries["estimates"].get(key)
        return entry.item if entry else None

    def unit_cost(self, key: str) -> tuple[float, str] | None:
        """(USD, basis) for one unit: the public list price, else the estimate, else None."""
        entry = self.find(key)
        if entry is not None and getattr(entry.item, "list_price_usd", None) is not None:
            item = entry.item
            return item.list_price_usd, f"list price: {item.price_source}"
        estimate = self.estimate(key)
        if estimate is not None and estimate.unit_cost_usd is not None:
            return estimate.unit_cost_usd, f"ESTIMATE: {estimate.basis} [{estimate.source}]"
        return None

    def power(self, key: str) -> PowerFigure | None:
        """Watts per unit of a part: a site's override, else the part's sourced figure,
        else its labelled power estimate, else None (the caller must refuse, never count 0).
        Looked up once per key (:attr:`memo`): every cluster size's fabric asks for its parts'."""
        memo_key = ("power", key)
        if memo_key in self.memo:
            return self.memo[memo_key]
        found = self.memo[memo_key] = self._power(key)
        return found

    def _power(self, key: str) -> PowerFigure | None:
        if key in self.power_overrides:
            return PowerFigure(key, self.power_overrides[key], "site file [power_w]", False, True)
        entry = self.find(key)
        if entry is not None:
            for name in POWER_FIELDS.get(entry.kind, ()):
                watts = getattr(entry.item, name, None)
                if watts is not None:
                    return PowerFigure(key, watts, f"{name}: {entry.item.source_of(name)}", False)
        est = self.entries["power_estimates"].get(key)
        if est is not None:
            e = est.item
            return PowerFigure(key, e.power_w, f"ESTIMATE ({e.method}): {e.basis} [{e.source}]", True,
                               method=e.method)
        return None

    def watts(self, key: str) -> float:
        """W per unit of a part (:meth:`power`); raise :class:`MissingPower` when there is
        no figure at all, never 0."""
        fig = self.power(key)
        if fig is None:
            raise MissingPower(key)
        return fig.watts

    def with_power_overrides(self, overrides: dict[str, float]) -> Catalog:
        """The same catalog with a site's power figures in front (shares the entries)."""
        if not overrides:
            return self
        return Catalog(entries=self.entries, dirs=self.dirs,
                       power_overrides={**self.power_overrides, **overrides})


def default_catalog_dir() -> Path:
    """The bundled ``catalogs/`` folder (beside the package), or ``$PLANNER_CATALOG``."""
    env = os.environ.get("PLANNER_CATALOG")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "catalogs"


def _iter_files(directory: Path) -> Iterator[Path]:
    if not directory.is_dir():
        raise InputError([Problem(display_path(directory), "", "catalog folder not found")])
    yield from sorted(directory.glob("*.toml"))


def load_catalog(dirs: Sequence[Path | str] | None = None, *, bundled: bool = True) -> Catalog:
    """Load the bundled catalog, then each overlay folder in order (later wins by key).

    Every problem in every file is collected before raising one :class:`InputError`.
    """
    folders: list[Path] = [default_catalog_dir()] if bundled else []
    folders += [Path(d) for d in dirs or ()]
    catalog = Catalog(dirs=tuple(str(f) for f in folders))
    problems: list[Problem] = []
    for folder in folders:
        in_folder: dict[tuple[str, str], str] = {}  # one key twice in one folder is a mistake;
        for path in _iter_files(folder):             # a later folder replacing it is an overlay
            problems += _load_file(catalog, path, in_folder)
    problems += _check_references(catalog)
    if problems:
        raise InputError(problems)
    return catalog


def _load_file(catalog: Catalog, path: Path, in_folder: dict[tuple[str, str], str] | None = None) -> list[Problem]:
    shown = display_path(path)
    try:
        data, lines = read_toml(path)
    except InputError as exc:
        return exc.problems
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for table, rows in data.items():
        kind = TABLES.get(table)
        if kind is None:
            problems.append(
                Problem(shown, table, "unknown catalog table", line_of(lines, (table,)),
                        did_you_mean(table, TABLES) or f"expected one of {sorted(TABLES)}")
            )
            continue
        if not isinstance(rows, list):
            problems.append(Problem(shown, table, f"write entries as [[{table}]] tables",
                                    line_of(lines, (table,))))
            continue
        model = KINDS[kind]
        for index, row in enumerate(rows):
            label = row.get("key", f"{table}[{index}]") if isinstance(row, dict) else table
            try:
                item = model.model_validate(row)
            except ValidationError as exc:
                problems += _validation_problems(exc, shown, lines, (table, index), label, model)
                continue
            if (kind, item.key) in seen:
                problems.append(Problem(shown, f"{table}[{index}].key",
                                        f"duplicate key {item.key!r} in one file",
                                        line_of(lines, (table, index, "key"))))
            elif in_folder is not None and (kind, item.key) in in_folder:
                problems.append(Problem(shown, f"{table}[{index}].key",
                                        f"key {item.key!r} is also in {in_folder[(kind, item.key)]} of the same "
                                        "folder (which one wins would depend on the file names)",
                                        line_of(lines, (table, index, "key"))))
            seen.add((kind, item.key))
            if in_folder is not None:
                in_folder.setdefault((kind, item.key), shown)
            where = {name: line_of(lines, (table, index, name)) for name in row}
            where[""] = line_of(lines, (table, index))
            catalog.entries[kind][item.key] = CatalogEntry(kind, item, shown, where)
    return problems


def _validation_problems(exc: ValidationError, shown: str, lines: dict, prefix: tuple,
                         label: str, model: type[BaseModel]) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        hint = None
        if err["type"] == "extra_forbidden":
            hint = did_you_mean(str(loc[-1]), model.model_fields)
            message = "unknown field"
        else:
            message = err["msg"]
        key = f"{label}." + dotted(loc) if loc else label
        out.append(Problem(shown, key, message, line_of(lines, prefix + loc), hint))
    return out


def _check_references(catalog: Catalog) -> list[Problem]:
    """Keys that point at other entries must exist."""
    problems = [_unknown(catalog, key, entry, "accelerator", "accelerators")
                for key, entry in catalog.entries["servers"].items()]
    for key, entry in catalog.entries["power_estimates"].items():
        if catalog.find(key) is None:
            problems.append(Problem(entry.file, f"power_estimate {key}", "names no part in the catalog",
                                    entry.line("key"), did_you_mean(key, catalog.part_keys())))
    for key, entry in catalog.entries["roles"].items():
        if key not in ROLES:
            problems.append(Problem(entry.file, f"{key}.key", "unknown role", entry.line("key"),
                                    did_you_mean(key, ROLES) or f"expected one of {sorted(ROLES)}"))
        else:
            kind, job = ROLES[key]
            problems.append(_unknown(catalog, key, entry, "part", kind, f" ({job})"))
    problems += [_unknown(catalog, key, entry, "connector", "connectors")
                 for key, entry in catalog.entries["optics"].items()]
    return [p for p in problems if p is not None]


def _unknown(catalog: Catalog, key: str, entry: CatalogEntry, name: str, kind: str, why: str = "") -> Problem | None:
    """The problem of an entry whose field ``name`` names no entry of ``kind`` (None when it
    is unset or names one)."""
    ref = getattr(entry.item, name)
    if not ref or ref in catalog.entries[kind]:
        return None
    return Problem(entry.file, f"{key}.{name}", f"unknown {SINGULAR[kind]} {ref!r}{why}", entry.line(name),
                   did_you_mean(ref, catalog.entries[kind]))


def iter_fields(item: BaseModel) -> Iterable[tuple[str, Any]]:
    """(name, value) of the fields that are set, in declaration order."""
    for name in type(item).model_fields:
        value = getattr(item, name)
        if value is None or value == [] or value == {}:
            continue
        yield name, value


def headline(kind: str, item: BaseModel, power: PowerFigure | None = None) -> str:
    """A few figures of an entry in one line, for listings; a power figure that is only a
    labelled estimate (``power``) is shown as such."""
    def g(name: str, unit: str = "") -> str | None:
        v = getattr(item, name, None)
        return None if v is None else f"{v:g}{unit}" if isinstance(v, float | int) else f"{v}{unit}"

    picks = {
        "accelerators": [("power_w", " W"), ("memory_gb", " GB"), ("bf16_dense_tflops", " TF bf16")],
        "servers": [("gpus", " GPUs"), ("max_power_w", " W"), ("height_u", "U")],
        "miners": [("hashrate_ths", " TH/s"), ("power_w", " W"), ("cooling", "")],
        "switches": [("ports", " ports"), ("port_gbps", "G"), ("optics", "")],
        "optics": [("gbps", "G"), ("reach_m", " m"), ("power_w", " W")],
        "connectors": [("fibers", " fibres"), ("polish", "")],
        "estimates": [("unit_cost_usd", " USD"), ("unit_cost_usd_per_m", " USD/m")],
        "power_estimates": [("power_w", " W"), ("method", "")],
        "site_costs": [("value", ""), ("unit", "")],
        "roles": [("part", "")],
        "line_systems": [("role", ""), ("channels", " channels"), ("spacing_ghz", " GHz"), ("span_km", " km span"),
                         ("power_w", " W")],
    }.get(kind, [])
    parts = [g(n, u) for n, u in picks]
    if power is not None and power.estimated:
        parts.append(f"{power.watts:g} W (estimate)")
    text = ", ".join(p for p in parts if p)
    watts = item.power_w or (power.watts if power is not None and power.estimated else None) \
        if isinstance(item, Miner) else None
    if isinstance(item, Miner) and watts:
        text += f", {watts / item.hashrate_ths:.1f} J/TH"
    return text
