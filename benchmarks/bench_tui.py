"""TUI benchmarks (issue 8): first screen, and a re-solve after an edit.

First screen: a fresh process starts the app headless (Textual's run_test) on an example
site and stops as soon as the first screen is mounted; the wall time includes imports and
the catalog. Re-solve: on every example site, in one process, an edit to the site text (its
BTC price) is validated and every scenario prepared, built and solved again, as the TUI's
worker does
(with its PlanCache of price profiles and cluster options, which an edit of the economics
leaves valid).
Tab switches: in one process at 140 x 42, the time from the switch to the next idle screen
(the tab underline's slide apart), for the Form tab (its first visit at once, when it is
built then; its first visit after a second on the first screen, when it was built in the
background; again after a visit elsewhere; after the site was edited in the Site tab) and for
the other tabs.
Targets: first screen <= 1.5 s; re-solve of an example site after an edit <= 1 s; the Form
tab well under a second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIRST = r"""
import asyncio, time, sys
t0 = time.perf_counter()
from pathlib import Path
from tui.app import make_app
async def main():
    app = make_app(Path(sys.argv[1]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        return time.perf_counter() - t0
print(asyncio.run(main()))
"""


def first_screen(site: Path, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", FIRST, str(site)], check=True, capture_output=True, text=True,
                             cwd=ROOT).stdout
        inner = float(out.strip().splitlines()[-1])
        times.append((time.perf_counter() - t0, inner))
    wall = [t[0] for t in times]
    return {"site": site.name, "median_s": statistics.median(wall), "min_s": min(wall), "max_s": max(wall),
            "in_process_median_s": statistics.median(t[1] for t in times)}


def resolve(site: Path, repeat: int) -> dict:
    from planner.app.pipeline import load, solve_site
    from planner.model.cache import PlanCache
    from planner.site.text import validate_text

    _, catalog = load(site)  # the site's catalog: the bundled one and its own overlay folders, as the TUI reads it
    text = site.read_text()
    cache = PlanCache()  # as the TUI holds it
    loaded, _ = validate_text(text, site, catalog)
    solve_site(loaded, catalog, cache=cache)  # the TUI has solved once before the edit
    times = []
    import re

    price = re.compile(r"^(btc_price_usd\s*=\s*)([0-9.eE+]+)", re.MULTILINE)  # every example site states it
    if not price.search(text):
        raise SystemExit(f"{site.name}: no btc_price_usd line to edit")
    for i in range(repeat):
        step = 1000.0 * (i + 1)
        edited = price.sub(lambda m, step=step: f"{m[1]}{float(m[2]) + step!r}", text, count=1)
        assert edited != text
        t0 = time.perf_counter()
        loaded, problems = validate_text(edited, site, catalog)
        assert not problems, problems
        solve_site(loaded, catalog, cache=cache)
        times.append(time.perf_counter() - t0)
    return {"site": site.name, "median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def tab_switches(site: Path, repeat: int) -> dict:
    import asyncio

    from planner.parts.catalog import load_catalog
    from tui.app import make_app

    async def run() -> dict:
        app = make_app(site, catalog=load_catalog())
        times: dict[str, list[float]] = {"form, first": [], "form, again": [], "form, after an edit": [],
                                         "other tabs": []}
        async with app.run_test(size=(140, 42)) as pilot:
            await pilot.pause()

            async def switch(tab: str) -> float:
                t0 = time.perf_counter()
                app.action_tab(tab)
                await pilot.pause()
                return time.perf_counter() - t0

            times["form, first"].append(await switch("form-tab"))  # at once: the form is built now
            for i in range(repeat):
                for tab in ("results-tab", "fabric-tab", "site-tab"):
                    times["other tabs"].append(await switch(tab))
                times["form, again"].append(await switch("form-tab"))
                await switch("site-tab")
                editor = app.query_one("#editor")
                editor.text = editor.text.replace("btc_price_usd = 90000.0", f"btc_price_usd = {90001 + i}.0", 1)
                await pilot.pause()
                times["form, after an edit"].append(await switch("form-tab"))
        return {k: {"median_s": statistics.median(v), "min_s": min(v), "max_s": max(v)} for k, v in times.items()}

    async def read_first() -> float:
        """The first visit after the user has looked at the first screen for a second: the
        form was built in the background (tui.panes.form.FORM_PREBUILD_S) and is only shown."""
        app = make_app(site, catalog=load_catalog())
        async with app.run_test(size=(140, 42)) as pilot:
            await pilot.pause(1.0)
            t0 = time.perf_counter()
            app.action_tab("form-tab")
            await pilot.pause()
            return time.perf_counter() - t0

    out = asyncio.run(run())
    read = [asyncio.run(read_first()) for _ in range(repeat)]
    out["form, first after 1 s"] = {"median_s": statistics.median(read), "min_s": min(read), "max_s": max(read)}
    return {"site": site.name, **out}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    out = {"first_screen": first_screen(ROOT / "sites" / "sichuan-hydro.toml", args.repeat),
           "resolve": [resolve(site, args.repeat) for site in sorted((ROOT / "sites").glob("*.toml"))],
           "tabs": [tab_switches(ROOT / "sites" / name, args.repeat)
                    for name in ("sichuan-hydro.toml", "xinjiang-mine.toml")]}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
