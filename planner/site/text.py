"""Site text in memory: validate without a file, save atomically with a backup.

Used by the TUI (which edits the raw TOML, so comments and key order are the user's own)
and by anything else that writes a site back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from planner.errors import Problem, display_path
from planner.site.load import LoadedSite, check_parts, site_problems, unknown_parts_beside
from planner.site.schema import Site
from planner.tomlpos import key_lines

if TYPE_CHECKING:
    from planner.parts.catalog import Catalog


def validate_text(text: str, path: Path, catalog: Catalog | None = None) -> tuple[LoadedSite | None, list[Problem]]:
    """Parse and validate site text as if it were the file at ``path``."""
    shown = display_path(path)
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write (read_toml drops it too)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        import re

        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\(at line \d+, column \d+\)", "", str(exc)).strip()
        return None, [Problem(shown, "", f"not valid TOML: {message}", int(match.group(1)) if match else None)]
    lines = key_lines(text)
    try:
        site = Site.model_validate(data)
    except ValidationError as exc:
        problems = site_problems(exc, shown, lines)
        if catalog is not None:  # unknown parts in the same pass, from the raw tables
            problems += unknown_parts_beside(problems, data, catalog, shown, lines)
        return None, problems
    loaded = LoadedSite(site=site, path=path, lines=lines)
    problems = check_parts(loaded, catalog) if catalog is not None else []
    return loaded, problems


def save_text(path: Path, text: str, backup: bool = True) -> Path | None:
    """Write ``text`` to ``path`` atomically; keep the previous file as ``<name>.bak``.

    The text goes to a temporary file in the same folder, is flushed to disk, and only
    then replaces the original, so a failure at any point leaves the original intact.
    Returns the backup path (None when there was nothing to back up).
    A symlinked site is written through to its target (the link stays a link); the backup
    never follows a link: a ``.bak`` that is a symlink is replaced by a file, not written
    through. Anything but a regular file at either place is refused.
    """
    path = Path(os.path.realpath(path))  # write the target of a symlinked site
    if path.exists() and not path.is_file():
        raise IsADirectoryError(21, "not a regular file", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    bak = path.with_name(path.name + ".bak") if backup and path.exists() else None
    if bak is not None and bak.exists() and not bak.is_symlink() and not bak.is_file():
        raise IsADirectoryError(21, "the backup's place is not a regular file", str(bak))
    made: list[Path] = []
    try:
        tmp = _write_temp(path, text)
        made.append(tmp)
        if path.exists():
            shutil.copymode(path, tmp)
            if bak is not None:
                bak_tmp = _write_temp(bak, path.read_bytes())  # a rename never follows a link
                made.append(bak_tmp)
                shutil.copystat(path, bak_tmp)
                os.replace(bak_tmp, bak)
        os.replace(tmp, path)
    except BaseException:
        for leftover in made:
            leftover.unlink(missing_ok=True)
        raise
    return bak


def _write_temp(beside: Path, content: str | bytes) -> Path:
    """A flushed temporary file in the folder of ``beside`` holding ``content``."""
    fd, name = tempfile.mkstemp(prefix=f".{beside.name}.", suffix=".tmp", dir=beside.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content.encode("utf-8") if isinstance(content, str) else content)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(name)


def template(name: str = "New site") -> str:
    """A small site to start from (it validates and solves)."""
    return f'''# A new site: edit the values, then save (Ctrl+S) and solve (Ctrl+R).
schema = 1
name = "{name}"

[grid]
capacity_mw = 20.0

[power_price]
kind = "flat"
usd_per_mwh = 40.0

[cooling]
mining_pue = 1.05
ai_pue = 1.3

[[fleet.miners]]
model = "antminer-s19j-pro"
count = 5000

[ai]
server = "dgx-h100"
leaf_switch = "qm9700"
lease_usd_per_gpu_hour = 3.0

[economics]
discount_rate = 0.10
horizon_years = 5
btc_price_usd = 90000.0
network_hashrate_ehs = 1000.0

[scenarios.retrofit]
kind = "retrofit"
build_months = 9
facility_usd_per_mw = 9.5e6

[scenarios.hybrid]
kind = "hybrid"
build_months = 9
facility_usd_per_mw = 9.5e6
'''


def insert_table(text: str, kind: str, table: str) -> str:
    """Put a new table in the site text after the last table of its kind, or at the end.

    ``kind`` names the header the new table's siblings start with (``[[buildings]]``,
    ``[scenarios.``); ``table`` is the new table's TOML, header included. Comments and
    blank lines that follow the last sibling belong to what comes next and stay with it;
    the new table gets a blank line before and after. The rest of the text is unchanged.
    """
    import re

    lines = text.splitlines()
    header = re.compile(r"^\s*\[")
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(kind)]
    block = table.strip("\n").splitlines()
    if not starts:
        body = text.rstrip("\n")
        return (body + "\n\n" if body else "") + "\n".join(block) + "\n"
    base = kind.strip("[]").rstrip(".")
    own = (f"[{base}.", f"[[{base}.", f"[[{base}]]", f"[{base}]")  # the kind's own sub-tables

    def foreign(line: str) -> bool:
        return bool(header.match(line)) and not line.strip().startswith(own)

    end = next((i for i in range(starts[-1] + 1, len(lines)) if foreign(lines[i]) or
                lines[i].strip().startswith(kind)), len(lines))
    last = end - 1
    while last > starts[-1] and (not lines[last].strip() or lines[last].lstrip().startswith("#")):
        last -= 1
    out = [*lines[: last + 1], "", *block]
    rest = lines[last + 1:]
    if rest and rest[0].strip():
        out.append("")
    out += rest
    return "\n".join(out) + "\n"


# What the form may add: kind -> (the header its siblings start with, a label)
ADDABLE = {"hall": "[[buildings]]", "miner block": "[[fleet.miners]]", "route": "[[routes]]",
           "scenario": "[scenarios."}


def new_item(kind: str, text: str, catalog: Catalog | None = None) -> tuple[str, tuple[str | int, ...]]:
    """The TOML of a new item of ``kind`` that validates beside the site's own, and the
    path of its first key. Names are unique; values are sensible empty defaults (a new
    hall of 1,000 m2 at 40 kW a rack, a miner block of 0 miners of a model not yet in the
    fleet, a straight route between the first two halls, a hybrid scenario). Raise
    ValueError when the site cannot take one (a route needs two halls)."""
    data = tomllib.loads(text)

    def unique(prefix: str, taken: set[str]) -> str:
        n = 1
        while f"{prefix}-{n}" in taken:
            n += 1
        return f"{prefix}-{n}"

    halls = [b.get("name") for b in data.get("buildings", []) if isinstance(b, dict)]
    if kind == "hall":
        name = unique("hall", {h for h in halls if isinstance(h, str)})
        index = len(halls)
        return (f'[[buildings]]\nname = "{name}"\nstatus = "new"\narea_m2 = 1000.0\nmax_kw_per_rack = 40.0\n'
                f"origin = [{200.0 * index:.1f}, 0.0]\n", ("buildings", index, "name"))
    if kind == "miner block":
        blocks = data.get("fleet", {}).get("miners", [])
        used = {b.get("model") for b in blocks if isinstance(b, dict)}
        models = [k for k in catalog.miners if k not in used and catalog.power(k) is not None] \
            if catalog is not None else []
        if not models:
            raise ValueError("every catalog miner already has a block")
        return f'[[fleet.miners]]\nmodel = "{models[0]}"\ncount = 0\n', ("fleet", "miners", len(blocks), "model")
    if kind == "route":
        if len(halls) < 2:
            raise ValueError("a route joins two halls: add a second hall first")
        routes = data.get("routes", [])
        return (f'[[routes]]\nfrom = "{halls[1]}"\nto = "{halls[0]}"\npolyline = [[0.0, 0.0], [10.0, 0.0]]\n',
                ("routes", len(routes), "from"))
    if kind == "scenario":
        name = unique("scenario", set(data.get("scenarios", {})))
        return f'[scenarios.{name}]\nkind = "hybrid"\n', ("scenarios", name, "kind")
    raise ValueError(f"unknown kind {kind!r}")
