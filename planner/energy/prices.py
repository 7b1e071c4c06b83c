"""Electricity prices as a yearly profile of steps: price, hours a year, grid capacity.

* flat: one step of 8,760 h.
* tou: 24 hourly steps, each 365 h a year.
* seasonal: one step per month, weighted by its hours; a season may lower the capacity.
* series: every row of the file, as given (no aggregation), each weighed by its real
  duration (the step). A series that is not one year long is extended to a year as the
  site says (``power_price.year``): ``scale`` multiplies every weight by 8,760 h / the hours
  covered; ``repeat`` lays the series end to end from its start until 8,760 h are filled
  (a longer series is cut at one year). The profile says which, and how far it reached.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

from planner.constants import (
    DAYS_PER_WEEK,
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    HOURS_PER_YEAR,
    KWH_PER_MWH,
    MINUTES_PER_HOUR,
    MONTHS_PER_YEAR,
)
from planner.errors import InputError, Problem, did_you_mean, display_path, printable
from planner.site.load import LoadedSite
from planner.site.schema import PRICE_MAX, PRICE_MIN, SeriesPrice

MAX_STEPS = 530_000  # five years of 5-minute prices (525,600) fit; the model merges steps it cannot tell apart
MAX_SERIES_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class SeriesCoverage:
    """The period a price series covers and how it is extended to one year."""

    start: str
    end: str  # start of the last step
    hours: float  # hours the rows cover (rows x step)
    year: str  # "scale" or "repeat"
    factor: float  # year hours / covered hours

    @property
    def full_year(self) -> bool:
        """Within a day of 8,760 h (a leap year's 8,784 h counts as a year)."""
        return abs(self.hours - HOURS_PER_YEAR) <= HOURS_PER_DAY

    def describe(self) -> str:
        how = (f"every step weighed x{self.factor:.4g} (8,760 h / {self.hours:,.6g} h)" if self.year == "scale"
               else f"the series repeated end to end to 8,760 h (x{self.factor:.4g})" if self.factor > 1
               else f"cut at 8,760 h ({self.hours - HOURS_PER_YEAR:,.6g} h left out)")
        days = self.hours / HOURS_PER_DAY
        return f"{self.start} to {self.end} + one step, {self.hours:,.6g} h ({days:,.4g} days); " + (
            "one year" if self.factor == 1 else f"extended to a year: {how}")

    def as_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "hours_covered": self.hours, "year": self.year,
                "factor": self.factor, "description": self.describe()}


def year_weights(steps: int, step_hours: float, how: str) -> np.ndarray:
    """Hours a year each step stands for: its duration, scaled or repeated to 8,760 h.

    >>> year_weights(4, 2190.0, "scale").tolist()
    [2190.0, 2190.0, 2190.0, 2190.0]
    >>> year_weights(3, 2190.0, "repeat").tolist()  # 3 steps of a quarter year: the first twice
    [4380.0, 2190.0, 2190.0]
    """
    covered = steps * step_hours
    if how == "scale":
        return np.full(steps, step_hours * HOURS_PER_YEAR / covered)
    slots = HOURS_PER_YEAR / step_hours  # steps in a year
    whole = int(slots // steps)
    counts = np.full(steps, float(whole))
    rest = slots - whole * steps
    full = int(rest)
    counts[:full] += 1.0
    if full < steps:
        counts[full] += rest - full  # a part step where the year ends inside it
    return counts * step_hours


@dataclass(frozen=True)
class PriceProfile:
    """Steps of a representative year."""

    price_usd_per_mwh: np.ndarray
    hours: np.ndarray  # hours a year each step stands for
    capacity_mw: np.ndarray
    labels: list[str]
    step_hours: float
    source: str
    pue_delta: np.ndarray | None = None  # PUE added per step by the ambient temperature
    coverage: SeriesCoverage | None = None  # series only: the period the file covers and how it makes a year

    def delta(self) -> np.ndarray:
        return self.pue_delta if self.pue_delta is not None else np.zeros(self.steps)

    @property
    def steps(self) -> int:
        return int(self.price_usd_per_mwh.size)

    @property
    def mean_price(self) -> float:
        """Hour-weighted mean price, USD/MWh."""
        return float((self.price_usd_per_mwh * self.hours).sum() / self.hours.sum())


def price_profile(loaded: LoadedSite, capacity_mw: float, store: dict[tuple, PriceProfile] | None = None
                  ) -> PriceProfile:
    """The site's price profile (capacity from the grid or the scenario, per season),
    every price scaled by ``economics.price_multiplier`` and shifted by
    ``economics.price_shift_usd_per_mwh``.

    With ``store`` (a dict kept by the caller: ``PlanCache.prices``, :mod:`planner.model.cache`)
    a series file is read once per version of the file, not again for every scenario and
    every re-solve.
    """
    import dataclasses

    key = _profile_key(loaded, capacity_mw) if store is not None else None
    if key is None or store is None:
        profile = _profile(loaded, capacity_mw)
    else:
        if key not in store:
            store[key] = _profile(loaded, capacity_mw)
        profile = store[key]
    econ = loaded.site.economics
    if econ.price_multiplier != 1.0 or econ.price_shift_usd_per_mwh:
        scaled = profile.price_usd_per_mwh * econ.price_multiplier + econ.price_shift_usd_per_mwh
        profile = dataclasses.replace(profile, price_usd_per_mwh=scaled)
    return profile


def _profile_key(loaded: LoadedSite, capacity_mw: float) -> tuple | None:
    """What the unscaled profile depends on, including the series file's version; None
    when the file cannot be read (then the reading reports it)."""
    site = loaded.site
    stamp = None
    if site.power_price.kind == "series":
        path = loaded.resolve(site.power_price.file)
        try:
            st = path.stat()
        except OSError:
            return None
        stamp = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    return ("prices", site.power_price.model_dump_json(), site.cooling.model_dump_json(), capacity_mw, stamp)


def _profile(loaded: LoadedSite, capacity_mw: float) -> PriceProfile:
    pp = loaded.site.power_price
    if loaded.site.cooling.temperature is not None and pp.kind != "series":
        raise InputError([Problem(display_path(loaded.path), "cooling.temperature",
                                  "a temperature-driven PUE needs a series price file with a temperature column",
                                  loaded.line("cooling", "temperature"))])
    if pp.kind == "flat":
        return PriceProfile(np.array([pp.usd_per_mwh]), np.array([HOURS_PER_YEAR]), np.array([capacity_mw]),
                            ["all hours"], HOURS_PER_YEAR, "flat")
    if pp.kind == "tou":
        prices = np.full(HOURS_PER_DAY, pp.default_usd_per_mwh, dtype=float)
        for period in pp.periods:
            prices[period.start_hour:period.end_hour] = period.usd_per_mwh
        return PriceProfile(prices, np.full(HOURS_PER_DAY, DAYS_PER_YEAR), np.full(HOURS_PER_DAY, capacity_mw),
                            [f"{h:02d}:00" for h in range(HOURS_PER_DAY)], 1.0, "time of use")
    if pp.kind == "seasonal":
        days = [calendar.monthrange(2025, m)[1] for m in range(1, MONTHS_PER_YEAR + 1)]  # a 365-day year
        monthly: list[float] = []
        caps: list[float] = []
        labels: list[str] = []
        for m in range(1, MONTHS_PER_YEAR + 1):
            season = next(s for s in pp.seasons if m in s.months)
            monthly.append(season.usd_per_mwh)
            caps.append(min(capacity_mw, season.capacity_mw or capacity_mw))
            labels.append(f"{calendar.month_abbr[m]} ({season.name})" if season.name else calendar.month_abbr[m])
        return PriceProfile(np.array(monthly, float), np.array(days, float) * HOURS_PER_DAY, np.array(caps, float),
                            labels,
                            HOURS_PER_YEAR / MONTHS_PER_YEAR, "seasonal")
    return _series(loaded, capacity_mw)


def _series(loaded: LoadedSite, capacity_mw: float) -> PriceProfile:
    """A series file's profile. A plain file (:func:`_plain_series`) is read without pandas;
    anything else, and every file with a fault, by pandas, whose reading names the fault."""
    pp = loaded.site.power_price
    if not isinstance(pp, SeriesPrice):
        raise TypeError(f"a {pp.kind} price has no series file")
    shown = display_path(loaded.path)
    path = loaded.resolve(pp.file)
    line = loaded.line("power_price", "file")

    def fail(key: str, message: str, hint: str | None = None, at: int | None = None) -> NoReturn:
        raise InputError([Problem(shown, f"power_price.{key}", message, at or loaded.line("power_price", key), hint)])

    if not path.is_file():
        fail("file", f"series file {pp.file!r} not found, or not a regular file (looked for {display_path(path)})",
             at=line)
    if path.stat().st_size > MAX_SERIES_BYTES:
        fail("file", f"{pp.file!r} is {path.stat().st_size:,} bytes; a series file may be at most "
             f"{MAX_SERIES_BYTES:,}", at=line)
    temp = loaded.site.cooling.temperature
    plain = _plain_series(path, pp.timestamp_column, pp.price_column, temp.column if temp is not None else None,
                          pp.step_minutes)
    if plain is not None:
        return _series_profile(loaded, capacity_mw, *plain)
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        # quote the reader's complaint briefly: it can carry the file's own bytes
        fail("file", f"cannot read {pp.file!r} as CSV: {printable(str(exc), 160)}", at=line)
    if len(frame) > MAX_STEPS:
        fail("file", f"{pp.file!r} has {len(frame):,} rows; a series may have at most {MAX_STEPS:,} steps "
             "(five years of 5-minute prices are 525,600)", "aggregate it to 15 or 60 minutes", at=line)
    for key, column in (("timestamp_column", pp.timestamp_column), ("price_column", pp.price_column)):
        if column not in frame.columns:
            names = [printable(str(c), 40) for c in frame.columns[:12]]
            more = f" and {len(frame.columns) - 12} more" if len(frame.columns) > 12 else ""
            fail(key, f"column {column!r} is not in {pp.file!r} (columns: {', '.join(names)}{more})",
                 did_you_mean(column, map(str, frame.columns)))
    prices = pd.to_numeric(frame[pp.price_column], errors="coerce")
    bad = prices.isna() | ~np.isfinite(prices)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        fail("price_column", f"{int(bad.sum())} missing or non-numeric prices in {pp.file!r}, first at data row "
             f"{row + 1} (file line {row + 2})")
    # utc=True: an export with UTC offsets (which change at daylight saving) is read on one
    # clock, so the steps stay regular; naive times are taken as they are
    try:
        with warnings.catch_warnings():  # "could not infer format": the unreadable row is named below
            warnings.simplefilter("ignore", UserWarning)
            stamps = pd.to_datetime(frame[pp.timestamp_column], errors="coerce", utc=True)
    except (ValueError, TypeError, OverflowError) as exc:
        fail("timestamp_column", f"cannot read the timestamps of {pp.file!r}: {exc}")
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        fail("timestamp_column", f"unreadable timestamp at data row {row + 1} (file line {row + 2}) of {pp.file!r}")
    if len(frame) < 2:
        fail("file", f"{pp.file!r} has {len(frame)} rows; a series needs at least two")
    steps = stamps.diff().dropna().dt.total_seconds() / 60  # seconds to minutes
    irregular = np.flatnonzero((steps != pp.step_minutes).to_numpy())
    if irregular.size:
        row = int(irregular[0]) + 1
        gap = float(steps.iloc[irregular[0]])
        what = ("a gap" if gap > pp.step_minutes else "a repeated timestamp" if gap == 0
                else "an overlap (time goes back)" if gap < 0 else "a short step")
        fail("step_minutes", f"{pp.file!r} is not a regular {pp.step_minutes}-minute series: {what} of "
             f"{gap:g} minutes before data row {row + 1} (file line {row + 2}, {stamps.iloc[row]})",
             at=loaded.line("power_price", "file"))
    labels = stamps.dt.strftime("%Y-%m-%d %H:%M").astype(str).tolist()
    temp = loaded.site.cooling.temperature

    def temperatures() -> np.ndarray:
        assert temp is not None
        if temp.column not in frame.columns:
            raise InputError([Problem(shown, "cooling.temperature.column",
                                      f"column {temp.column!r} is not in {pp.file!r}",
                                      loaded.line("cooling", "temperature"),
                                      did_you_mean(temp.column, map(str, frame.columns)))])
        t = pd.to_numeric(frame[temp.column], errors="coerce")
        if t.isna().any():
            row = int(np.flatnonzero(t.isna().to_numpy())[0])
            raise InputError([Problem(shown, "cooling.temperature.column",
                                      f"missing temperature at data row {row + 1} (file line {row + 2})",
                                      loaded.line("cooling", "temperature"))])
        return t.to_numpy(dtype=float)

    return _series_profile(loaded, capacity_mw, prices.to_numpy(dtype=float), labels,
                           temperatures if temp is not None else None)


def _series_profile(loaded: LoadedSite, capacity_mw: float, raw: np.ndarray, labels: list[str],
                    temperatures: Callable[[], np.ndarray] | None) -> PriceProfile:
    """The profile of a series read and checked (prices as in the file, each step's start as
    "YYYY-MM-DD HH:MM"): the prices' range, the week it must cover, the year's weights, and
    the temperatures (read when the site asks for them)."""
    pp = loaded.site.power_price
    assert isinstance(pp, SeriesPrice)
    shown = display_path(loaded.path)

    def fail(key: str, message: str, hint: str | None = None) -> NoReturn:
        raise InputError([Problem(shown, f"power_price.{key}", message, loaded.line("power_price", key), hint)])

    per_mwh = KWH_PER_MWH if pp.unit == "usd_per_kwh" else 1.0
    out = np.flatnonzero((raw < PRICE_MIN / per_mwh) | (raw > PRICE_MAX / per_mwh))  # checked before scaling
    if out.size:
        row = int(out[0])
        unit = "USD/kWh" if pp.unit == "usd_per_kwh" else "USD/MWh"
        fail("price_column", f"{out.size} price(s) in {pp.file!r} outside {PRICE_MIN:,g} to {PRICE_MAX:,g} USD/MWh, "
             f"first {raw[row]:g} {unit} at data row {row + 1} (file line {row + 2})",
             "the range of a flat price: wider than any market's price cap (ERCOT's is 5,000 USD/MWh)")
    values = raw * per_mwh
    n = values.size
    step_h = pp.step_minutes / MINUTES_PER_HOUR
    covered = n * step_h
    if covered < HOURS_PER_DAY * DAYS_PER_WEEK:
        fail("file", f"{pp.file!r} covers {covered:g} h; a series needs at least a week")
    weights = year_weights(n, step_h, pp.year)
    coverage = SeriesCoverage(labels[0], labels[-1], covered, pp.year, HOURS_PER_YEAR / covered)
    keep = weights > 0
    whole = bool(keep.all())
    if not whole:  # a series longer than a year, repeated: the steps past one year
        values, weights, n = values[keep], weights[keep], int(keep.sum())
        labels = [label for label, k in zip(labels, keep.tolist(), strict=True) if k]
    kind = "synthetic series" if pp.synthetic else "series"
    delta = None
    temp = loaded.site.cooling.temperature
    if temp is not None and temperatures is not None:
        t = temperatures()
        delta = temp.per_degree * np.maximum(0.0, (t if whole else t[keep]) - temp.above_c)
    return PriceProfile(values, weights, np.full(n, capacity_mw), labels, step_h,
                        f"{kind} {pp.file} ({n} steps of {pp.step_minutes} min)", delta, coverage)



_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"  # one way to match a text: no backtracking blow-up
_NUMBERS = re.compile(f"(?:{_NUMBER}\n)*{_NUMBER}", re.ASCII)  # one a line: a column checked in one match
_STAMP = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?"
_STAMPS = re.compile(f"(?:{_STAMP}\n)*{_STAMP}", re.ASCII)


def _plain_series(path: Path, stamp_column: str, price_column: str, temperature_column: str | None,
                  step_minutes: int) -> tuple[np.ndarray, list[str], Callable[[], np.ndarray] | None] | None:
    """The prices, step labels and temperatures of a plain series file, read by Python's csv
    module and numpy (a run then never imports pandas): UTF-8 without a byte-order mark, a
    header of distinct names holding the columns asked for, no blank or ragged line, every
    price (and temperature) a plain decimal number, every time stamp ``YYYY-MM-DD HH:MM[:SS]``
    without a zone, steps of ``step_minutes`` throughout, at least two and at most MAX_STEPS
    rows. None for anything else: pandas then reads the file and names the fault
    (:func:`_series`), so a fault's message is the same whichever reader met the file."""
    try:
        text = path.read_text(encoding="utf-8")
        if '"' not in text and "\r" not in (text := text.replace("\r\n", "\n")):
            lines = text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            rows = [line.split(",") for line in lines]
        else:  # quoted fields or lone carriage returns: the csv module's rules
            rows = list(csv.reader(io.StringIO(text, newline="")))
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if len(rows) < 3 or len(rows) - 1 > MAX_STEPS:
        return None
    header = rows[0]
    wanted = [stamp_column, price_column] + ([temperature_column] if temperature_column else [])
    if len(set(header)) != len(header) or header[0].startswith("\ufeff") or any(c not in header for c in wanted):
        return None
    width = len(header)
    if any(len(r) != width for r in rows):
        return None
    columns = list(zip(*rows[1:], strict=True))
    stamps, prices = columns[header.index(stamp_column)], columns[header.index(price_column)]
    if not (_NUMBERS.fullmatch("\n".join(prices)) and _STAMPS.fullmatch("\n".join(stamps))):
        return None
    raw = np.array(prices, dtype=float)
    try:
        times = np.array(stamps, dtype="datetime64[s]")
    except ValueError:  # a stamp of the right shape that is no time (month 13): pandas names the row
        return None
    if not np.isfinite(raw).all() or (np.diff(times).astype(np.int64) != step_minutes * 60).any():
        return None
    temps = None
    if temperature_column:
        column = columns[header.index(temperature_column)]
        if not _NUMBERS.fullmatch("\n".join(column)):
            return None
        values = np.array(column, dtype=float)
        if not np.isfinite(values).all():
            return None

        def temps() -> np.ndarray:
            return values

    labels = [f"{t[:10]} {t[11:16]}" for t in stamps]  # as the stamps say (checked above), to the minute
    return raw, labels, temps
