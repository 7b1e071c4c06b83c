"""Reading a site file: the validated site with its file and lines (:class:`LoadedSite`),
validation errors as problems with file, dotted key, line and a "did you mean", and the
checks that need the catalog or the whole site (part keys, power floors, miner places).
The declaration itself is :mod:`planner.site.schema`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.errors import InputError, Problem, did_you_mean, display_path, dotted
from planner.parts.kinds import SINGULAR
from planner.site.schema import PRICE_KINDS, Site
from planner.tomlio import read_toml
from planner.tomlpos import line_of

if TYPE_CHECKING:
    from planner.parts.catalog import Catalog


class LoadedSite(BaseModel):
    """A validated site with the file it came from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    site: Site
    path: Path
    lines: dict = Field(default_factory=dict)

    @property
    def stem(self) -> str:
        return self.path.stem

    def resolve(self, relative: str) -> Path:
        """A path from the site file, resolved against the file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else (self.path.parent / p)

    def line(self, *loc: str | int) -> int | None:
        return line_of(self.lines, loc)


def _model_at(loc: tuple, root: type[BaseModel] | None = None) -> type[BaseModel] | None:
    """The model that owns the last element of ``loc`` (for did-you-mean on unknown keys)."""
    model: type[BaseModel] | None = root or Site
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model


def _inner_model(annotation: object) -> type[BaseModel] | None:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def site_problems(exc: ValidationError, shown: str, lines: dict,
                  root: type[BaseModel] | None = None) -> list[Problem]:
    """Pydantic errors as Problems with dotted key, line and suggestion."""
    problems = []
    for err in exc.errors():
        # drop the tag pydantic inserts for a discriminated union (power_price.series.unit)
        # and the mark of a table's key that is itself wrong (scenarios.<name>.[key])
        loc = tuple(p for i, p in enumerate(err["loc"])
                    if not (i > 0 and err["loc"][i - 1] == "power_price" and p in PRICE_KINDS) and p != "[key]")
        hint = None
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            model = _model_at(loc, root)
            if model is not None:
                names = [f.alias or n for n, f in model.model_fields.items()]
                hint = did_you_mean(str(loc[-1]), names)
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif err["type"] in ("literal_error", "union_tag_invalid"):
            ctx = err.get("ctx", {})
            expected = re.findall(r"'([^']*)'", str(ctx.get("expected", ctx.get("expected_tags", ""))))
            hint = did_you_mean(str(err.get("input")), expected) or (
                f"one of {', '.join(expected)}" if expected else None)
        problems.append(Problem(shown, dotted(loc), message, line_of(lines, loc), hint))
    return problems


M = TypeVar("M", bound=BaseModel)


# Top-level keys only one kind of file has: a file of the other kind gets one clear
# message instead of a list of unknown keys.
FILE_KINDS = {"site": ({"grid", "scenarios"}, "planner solve"), "sweep": ({"base", "axes"}, "planner sweep"),
              "portfolio": ({"sites"}, "planner portfolio")}


def read_model(path: Path, model: type[M], kind: str = "site") -> tuple[M, dict]:
    """Read a TOML file and validate it as ``model`` (a ``kind`` of FILE_KINDS); the model
    and the lines of its keys. Raise InputError listing every problem with its key and line."""
    data, lines = read_toml(path)
    return validate_model(path, data, lines, model, kind), lines


def validate_model(path: Path, data: dict, lines: dict, model: type[M], kind: str = "site") -> M:
    """A file's tables (as :func:`read_model` read them) validated as ``model``."""
    own = FILE_KINDS[kind][0]
    for other, (keys, command) in FILE_KINDS.items():
        if other != kind and keys <= data.keys() and not own & data.keys():
            raise InputError([Problem(display_path(path), "", f"this is a {other} file, not a {kind} file",
                                      hint=f"run it with `{command}`")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(site_problems(exc, display_path(path), lines, root=model)) from None


def load_site(path: Path | str) -> LoadedSite:
    """Read and validate a site file; raise InputError listing every problem."""
    path = Path(path)
    site, lines = read_model(path, Site)
    return LoadedSite(site=site, path=path, lines=lines)


# Where a site names catalog parts: (path, catalog kind). In a path, "*" is every item of a
# list and "+" every key of a table; a kind of None is any part of the catalog.
PART_REFERENCES: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("ai", "server"), "servers"),
    (("ai", "server_choices", "*"), "servers"),
    (("ai", "leaf_switch"), "switches"),
    (("ai", "spine_switch"), "switches"),
    (("ai", "core_switch"), "switches"),
    (("fleet", "miners", "*", "model"), "miners"),
    (("fleet", "buy", "*", "model"), "miners"),
    (("hosting", "fallback_miner"), "miners"),
    (("costs", "+"), None),
    (("power_w", "+"), None),
)


def part_references(data: Any) -> list[tuple[str, str | None, tuple]]:
    """(part key, catalog kind, location) of every part a site document names, for the
    paths of :data:`PART_REFERENCES`. ``data`` is a validated site's dump or a file's raw
    table: anything not shaped as a reference (a number where a key should be) is left to
    the schema's own message."""
    found: list[tuple[str, str | None, tuple]] = []

    def walk(node: Any, path: tuple[str, ...], loc: tuple, kind: str | None) -> None:
        if not path:
            if isinstance(node, str):
                found.append((node, kind, loc))
            return
        head, rest = path[0], path[1:]
        if head == "*" and isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, rest, (*loc, i), kind)
        elif head == "+" and isinstance(node, dict):
            for key in node:
                found.append((str(key), kind, (*loc, key)))
        elif isinstance(node, dict) and head in node:
            walk(node[head], rest, (*loc, head), kind)

    for path, kind in PART_REFERENCES:
        walk(data, path, (), kind)
    return found


def reference_problems(data: Any, catalog: Catalog, shown: str, lines: dict,
                       skip: Callable[[str], bool] | None = None, limit: int | None = None) -> list[Problem]:
    """Part keys named in a site document that the catalog lacks (with did-you-mean); none
    at a dotted key ``skip`` says to leave, at most ``limit``."""
    problems: list[Problem] = []
    for key, kind, loc in part_references(data):
        if limit is not None and len(problems) >= limit:
            break
        where = dotted(loc)
        if skip is not None and skip(where):
            continue
        if kind is not None and key not in catalog.entries[kind]:
            problems.append(Problem(shown, where, f"unknown {SINGULAR[kind]} {key!r}", line_of(lines, loc),
                                    did_you_mean(key, catalog.entries[kind])))
        elif kind is None and catalog.find(key) is None:
            problems.append(Problem(shown, where, "unknown part", line_of(lines, loc),
                                    did_you_mean(key, catalog.part_keys())))
    return problems


def unknown_parts_beside(problems: list[Problem], data: Any, catalog: Catalog, shown: str,
                         lines: dict) -> list[Problem]:
    """The unknown parts of a file the schema refused (read from its raw tables), beside the
    schema's ``problems``: none under a key the schema already names (a ``costs`` table too
    long to read is one problem, not one per key), at most :data:`MAX_PART_PROBLEMS`."""
    known = [p.key for p in problems]

    def said(key: str) -> bool:
        return any(key == k or key.startswith(k + ".") or key.startswith(k + "[") for k in known)

    return reference_problems(data, catalog, shown, lines, skip=said, limit=MAX_PART_PROBLEMS)


MAX_PART_PROBLEMS = 50  # unknown parts listed in one pass beside the schema's problems


def check_parts(loaded: LoadedSite, catalog: Catalog) -> list[Problem]:
    """Part keys named in the site exist in the catalog (with did-you-mean), and a host
    scenario has its contract."""
    site, shown = loaded.site, display_path(loaded.path)
    problems = reference_problems(site.model_dump(by_alias=True), catalog, shown, loaded.lines)
    for name, sc in site.scenarios.items():
        if sc.model == "host" and site.hosting is None:
            loc = ("scenarios", name, "model")
            problems.append(Problem(shown, dotted(loc), "a host scenario needs the contract: the site has no "
                                    "[hosting] section", loaded.line(*loc),
                                    "add [hosting] with rent_usd_per_kw_month and term_months "
                                    "(docs/site-reference.md), or use model = \"owner\""))
    problems += _power_floors(loaded, catalog)
    return problems + check_miner_places(loaded)


def _power_floors(loaded: LoadedSite, catalog: Catalog) -> list[Problem]:
    """A site's power figure is held to the floor the catalog holds its part to (a server
    draws at least a watt): far below it the cluster sizes to try run to trillions."""
    from planner.parts.models import KINDS, MINIMA, POWER_FIELDS

    problems = []
    for key, watts in loaded.site.power_w.items():
        entry = catalog.find(key)
        if entry is None:  # an unknown part: check_parts names it
            continue
        table = KINDS[entry.kind].table
        floors = [MINIMA[(table, name)] for name in POWER_FIELDS.get(entry.kind, ()) if (table, name) in MINIMA]
        if floors and watts < floors[0][0]:
            low, why = floors[0]
            problems.append(Problem(display_path(loaded.path), f"power_w.{key}", f"{watts:g} W is below {low:g}: {why}",
                                    loaded.line("power_w", key)))
    return problems


def check_miner_places(loaded: LoadedSite) -> list[Problem]:
    """Miners stand in halls that exist and hold them: per hall at most its positions, and
    the whole fleet within all positions (when halls give positions)."""
    site, shown = loaded.site, display_path(loaded.path)
    problems: list[Problem] = []
    names = [b.name for b in site.buildings]
    for i, block in enumerate(site.fleet.miners):
        for hall in block.buildings:
            if hall not in names:
                loc = ("fleet", "miners", i, "buildings", hall)
                problems.append(Problem(shown, dotted(loc), "unknown building", loaded.line(*loc),
                                        did_you_mean(hall, names)))
    if not any(b.miner_positions is not None for b in site.buildings):
        return problems
    for j, b in enumerate(site.buildings):
        placed = sum(block.buildings.get(b.name, 0) for block in site.fleet.miners)
        if placed > (b.miner_positions or 0):
            at = ("buildings", j, "miner_positions")
            problems.append(Problem(shown, dotted(at), f"{placed} fleet miners stand in {b.name!r} but it has "
                                    f"{b.miner_positions or 0} miner positions", loaded.line(*at) or
                                    loaded.line("buildings", j)))
    total = sum(b.miner_positions or 0 for b in site.buildings)
    fleet = sum(block.count for block in site.fleet.miners)
    if fleet > total:
        problems.append(Problem(shown, "fleet.miners", f"{fleet} miners but the buildings give {total} miner "
                                "positions", loaded.line("fleet", "miners")))
    return problems
