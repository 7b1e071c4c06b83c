"""Power contracts and markets as per-step arrays of the price year: fixed-price blocks with
resale, reserve (ancillary service) prices, coincident-peak weights and the month of each
step for demand charges. Read from the site's ``[power]`` section and, for series columns,
from the power_price file; the model uses them in :mod:`planner.model.markets`.

The rules (sources in docs/research-contracts-markets.md, sections 6-9):

* block contract of Q_t MW at c USD/MWh, take or pay, unused energy resold at the real-time
  price p_t: cost_t = c Q_t h_t + p_t h_t (L_t - Q_t). Linear in the load L_t with slope
  p_t, so the dispatch is that of the spot price and the contract adds the constant
  sum_t (c - p_t) Q_t h_t a year; the credits (resale) are sum_t p_t h_t max(0, Q_t - L_t);
* reserves: o_t <= curtailable load running in step t, paid pi_t USD per MW-hour offered;
* coincident peaks: tag = mean grid import over the n peak intervals, charge = tag x rate
  (USD/kW-year): each MW imported in a peak step costs rate x 1000 / n (times the step's
  share of its interval) a year, billed in the following year (CP_BILLING_LAG_MONTHS);
* demand charge: rate (USD/kW-month) x the month's highest grid import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from planner.energy.prices import PriceProfile
from planner.errors import InputError, Problem, did_you_mean, display_path, dotted, printable
from planner.site.load import LoadedSite
from planner.site.schema import CoincidentPeak

Fail = Callable[..., NoReturn]

KW_PER_MW = 1000.0
# The coincident-peak tag of a year's summer is billed through the following year: "the monthly
# charge ... = monthly rate x the DSP's previous year's average 4CP demand" (PUCT 16 TAC
# 25.192(b)(1), current through 28 Mar 2025; docs/research-contracts-markets.md, section 8).
# The representative year's charge for the load of plan month m is paid in month m + 12.
CP_BILLING_LAG_MONTHS = 12


@dataclass(frozen=True)
class Contract:
    """One fixed-price block: its MW in each step (0 outside its months and hours) and the
    months of the plan it is in force, [start_month, end_month) (None: to the horizon); the
    start is the site's ``start_month`` or, without one, the scenario's grid connection month
    (:func:`market_terms`)."""

    name: str
    usd_per_mwh: float
    mw: np.ndarray  # per step
    start_month: int = 0
    end_month: int | None = None
    stated_start: bool = True  # start_month given in the site file (else: the grid connection month)

    def months_in_force(self, horizon_months: int, lo: int = 0, hi: int | None = None) -> range:
        """Months of [lo, hi) (default the horizon) the contract is in force."""
        end = horizon_months if self.end_month is None else min(self.end_month, horizon_months)
        return range(max(self.start_month, lo), min(end, horizon_months if hi is None else hi))

    def net_cost_year(self, profile: PriceProfile) -> float:
        """sum_t (c - p_t) Q_t h_t: what the block costs a year beyond buying its energy at the
        real-time price (negative when the block is cheaper than the market), USD."""
        return float(((self.usd_per_mwh - profile.price_usd_per_mwh) * self.mw * profile.hours).sum())


@dataclass(frozen=True)
class Markets:
    """The per-step terms of a site's ``[power]`` section for one price profile."""

    contracts: tuple[Contract, ...] = ()
    reserve_usd_per_mw_hour: np.ndarray | None = None  # per step (None: no reserves)
    reserve_max_mw: float | None = None
    ai_share: float = 0.0  # share of the AI facility load that may be offered
    cp_usd_per_mw_year: np.ndarray | None = None  # per step: a year's charge per MW imported in the step
    cp_rate_usd_per_kw_year: float = 0.0
    cp_steps: tuple[np.ndarray, ...] = ()  # the steps of each peak interval
    demand_usd_per_kw_month: float = 0.0
    month: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # month group of each step
    months_a_year: np.ndarray = field(default_factory=lambda: np.zeros(0))  # months a year each group stands for
    month_labels: tuple[str, ...] = ()

    @property
    def per_step(self) -> bool:
        """Terms that need the dispatch per step (reserves, peaks, demand charges); a contract
        alone does not (it only adds a constant)."""
        return (self.reserve_usd_per_mw_hour is not None or self.cp_usd_per_mw_year is not None
                or self.demand_usd_per_kw_month > 0)

    def contract_mw(self, steps: int, month: int | None = None) -> np.ndarray:
        """Contracted MW per step: every block, or those in force in plan month ``month``."""
        total = np.zeros(steps)
        for c in self.contracts:
            if month is None or (month >= c.start_month and (c.end_month is None or month < c.end_month)):
                total = total + c.mw
        return total

    def cp_charge(self, import_mw: np.ndarray) -> tuple[float, float]:
        """(tag MW, charge USD a year) of a per-step grid import: the mean import over the
        peak intervals (each interval the mean of its steps), times the rate."""
        if self.cp_usd_per_mw_year is None:
            return 0.0, 0.0
        charge = float((self.cp_usd_per_mw_year * import_mw).sum())
        return charge / (self.cp_rate_usd_per_kw_year * KW_PER_MW) if self.cp_rate_usd_per_kw_year else 0.0, charge

    def monthly_peaks(self, import_mw: np.ndarray) -> np.ndarray:
        """Highest grid import of each month group, MW."""
        peaks = np.zeros(self.months_a_year.size)
        np.maximum.at(peaks, self.month, np.broadcast_to(import_mw, self.month.shape))
        return peaks

    def demand_charge(self, import_mw: np.ndarray) -> float:
        """A year's demand charges: rate x 1000 x sum over months of the month's peak."""
        return float(self.demand_usd_per_kw_month * KW_PER_MW * (self.monthly_peaks(import_mw)
                                                                 * self.months_a_year).sum())


def step_times(profile: PriceProfile) -> np.ndarray:
    """The start of each step as numpy minutes (``datetime64[m]``; series profiles only,
    whose labels are "YYYY-MM-DD HH:MM")."""
    return np.array(profile.labels, dtype="datetime64[m]")


def _months(times: np.ndarray) -> np.ndarray:
    """Calendar month (1-12) of each time."""
    return times.astype("datetime64[M]").astype(np.int64) % 12 + 1


def _hours(times: np.ndarray) -> np.ndarray:
    """Hour of the day (0-23) of each time."""
    return (times - times.astype("datetime64[D]")) // np.timedelta64(1, "h")


def market_terms(loaded: LoadedSite, profile: PriceProfile, connection_month: int = 0) -> Markets | None:
    """The site's ``[power]`` terms on the profile's steps; None when the section is empty.
    Raise InputError naming the key for terms the price profile cannot carry.

    ``connection_month``: when the scenario's grid connection is energised (0 for an existing
    one, the grid queue for a greenfield build). A block without a stated ``start_month``
    starts then, and its ``term_months`` run from that start: a take-or-pay block cannot be
    delivered, nor its unused energy resold, before there is a connection."""
    power = loaded.site.power
    if not (power.contracts or power.reserves or power.coincident_peak or power.demand_charge):
        return None
    shown = display_path(loaded.path)
    series = loaded.site.power_price.kind == "series"

    def fail(loc: tuple, message: str, hint: str | None = None) -> NoReturn:
        raise InputError([Problem(shown, dotted(("power", *loc)), message,
                                  loaded.line("power", *loc) or loaded.line("power", loc[0]), hint)])

    times = step_times(profile) if series else None
    contracts = []
    for i, c in enumerate(power.contracts):
        if times is None:
            return fail(("contracts", i), "a fixed-price block resells its unused energy at the real-time price: "
                 "it needs a series price (power_price.kind = \"series\")")
        hour = _hours(times)
        on = np.isin(_months(times), c.months) & (hour >= c.start_hour) & (hour < c.end_hour)
        begin = connection_month if c.start_month is None else c.start_month
        end = None if c.term_months is None else begin + c.term_months
        contracts.append(Contract(c.name or f"block {i + 1}", c.usd_per_mwh, np.where(on, c.mw, 0.0),
                                  begin, end, c.start_month is not None))
    out: dict[str, Any] = {"contracts": tuple(contracts)}
    if power.reserves is not None:
        r = power.reserves
        if r.column is not None:
            if not series:
                fail(("reserves", "column"), "a reserve price column needs a series price file",
                     "give usd_per_mw_hour instead")
            pi = _column(loaded, profile, r.column, ("reserves", "column"), fail)
            if (pi < 0).any():
                row = int(np.flatnonzero(pi < 0)[0])
                fail(("reserves", "column"), f"negative capacity price {pi[row]:g} at data row {row + 1} "
                     f"(file line {row + 2})")
        else:
            pi = np.full(profile.steps, float(r.usd_per_mw_hour or 0.0))
        out |= {"reserve_usd_per_mw_hour": pi, "reserve_max_mw": r.max_mw, "ai_share": r.ai_interruptible_share}
    if power.coincident_peak is not None:
        cp = power.coincident_peak
        if times is None:
            return fail(("coincident_peak",), "coincident peaks are intervals of a series: they need a series price "
                 "(power_price.kind = \"series\")")
        intervals = _cp_intervals(loaded, profile, times, cp, fail)
        weight = np.zeros(profile.steps)
        for steps, share in intervals:
            weight[steps] += share * cp.usd_per_kw_year * KW_PER_MW / len(intervals)
        out |= {"cp_usd_per_mw_year": weight, "cp_rate_usd_per_kw_year": cp.usd_per_kw_year,
                "cp_steps": tuple(s for s, _ in intervals)}
    month, per_year, labels = _month_groups(profile, times)
    out |= {"month": month, "months_a_year": per_year, "month_labels": labels}
    if power.demand_charge is not None:
        out["demand_usd_per_kw_month"] = power.demand_charge.usd_per_kw_month
    return Markets(**out)


def _month_groups(profile: PriceProfile, times: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(month group of each step, months a year each group stands for, their labels). A series:
    each calendar month it covers, standing for 12 / (months covered) months; seasonal
    prices: one step per month; flat and time of use: every step in one typical month, 12 a
    year."""
    if times is not None:
        key = (times.astype("datetime64[Y]").astype(np.int64) + 1970) * 100 + _months(times)
        uniques, codes = np.unique(key, return_inverse=True)
        uniques = uniques.tolist()
        return (codes.astype(np.int64).reshape(-1), np.full(len(uniques), 12.0 / len(uniques)),
                tuple(f"{u // 100}-{u % 100:02d}" for u in uniques))
    if profile.source == "seasonal":
        return np.arange(profile.steps, dtype=np.int64), np.ones(profile.steps), tuple(profile.labels)
    return np.zeros(profile.steps, dtype=np.int64), np.array([12.0]), ("every month",)


def _column(loaded: LoadedSite, profile: PriceProfile, column: str, loc: tuple, fail: Fail) -> np.ndarray:
    """A numeric column of the power_price series file on the profile's steps."""
    import pandas as pd

    pp = loaded.site.power_price
    if pp.kind != "series":
        fail(loc, f"column {column!r} needs a series price file (power_price.kind = \"series\")")
    path = loaded.resolve(pp.file)
    header = pd.read_csv(path, nrows=0).columns
    if column not in header:
        fail(loc, f"column {column!r} is not in {pp.file!r}",
             did_you_mean(column, map(str, header)))
    values = pd.to_numeric(pd.read_csv(path, usecols=[column])[column], errors="coerce")
    values = values.iloc[:profile.steps]  # the profile keeps the first steps of a longer series
    bad = values.isna() | ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        fail(loc, f"missing or non-numeric value in column {column!r} at data row {row + 1} (file line {row + 2})")
    return values.to_numpy(dtype=float)


def _timestamp(text: str) -> np.datetime64 | None:
    """An interval's start as numpy microseconds (an offset converted to UTC, as pandas does),
    or None when it cannot be read. ISO 8601 is read by the standard library; anything else
    by pandas, which reads more spellings (imported only then)."""
    from datetime import UTC, datetime

    try:
        at = datetime.fromisoformat(text)
    except (ValueError, TypeError):
        import pandas as pd

        try:
            stamp = pd.Timestamp(text)
        except (ValueError, TypeError):
            return None
        if stamp is pd.NaT:
            return None
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return stamp.to_datetime64().astype("datetime64[us]")
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(at, "us")


def _cp_intervals(loaded: LoadedSite, profile: PriceProfile, times: np.ndarray, cp: CoincidentPeak,
                  fail: Fail) -> list[tuple[np.ndarray, np.ndarray]]:
    """The peak intervals as (steps, share of each step in the interval's mean)."""
    step = np.timedelta64(round(profile.step_hours * 60), "m")
    length = np.timedelta64(cp.interval_minutes, "m")
    starts = times
    out = []
    if cp.intervals:
        for i, text in enumerate(cp.intervals):
            at = _timestamp(text)
            if at is None:
                fail(("coincident_peak", "intervals", i), f"cannot read {printable(text, 40)!r} as a timestamp")
            lo = np.maximum(starts, at)
            hi = np.minimum(starts + step, at + length)
            overlap = (hi - lo) / np.timedelta64(1, "s")
            steps = np.flatnonzero(overlap > 0)
            if not steps.size:
                fail(("coincident_peak", "intervals", i), f"interval {text!r} is outside the price series "
                     f"({profile.labels[0]} to {profile.labels[-1]})")
            out.append((steps, overlap[steps] / overlap[steps].sum()))
        return out
    import pandas as pd

    load = _column(loaded, profile, cp.system_load_column or "", ("coincident_peak", "system_load_column"), fail)
    stamps = pd.Series(times.astype("datetime64[ns]"))
    block = stamps.dt.floor(pd.Timedelta(max(step, length)))
    frame = pd.DataFrame({"block": block, "load": load, "month": stamps.dt.month, "ym": stamps.dt.to_period("M")})
    frame = frame[frame["month"].isin(cp.months)]
    if frame.empty:
        fail(("coincident_peak", "months"), f"the price series ({profile.labels[0]} to {profile.labels[-1]}) "
             f"has no step in months {cp.months}")
    means = frame.groupby(["ym", "block"], sort=True)["load"].mean()
    for _, per in means.groupby(level="ym", sort=True):
        peak = per.droplevel("ym").idxmax()
        steps = np.flatnonzero((block == peak).to_numpy())
        out.append((steps, np.full(steps.size, 1.0 / steps.size)))
    return out
