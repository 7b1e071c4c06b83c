"""What a hosting contract is worth to the host, with the tenant's risk of leaving and
what the host does with the halls then (stay idle, re-lease, go back to mining).

Pure numbers: everything here is per kW of contracted critical IT load, so the value of a
cluster option is its contracted kW times :attr:`HostValuation.expected_usd_per_kw` less the
host's capex, a number the plan model folds into the option's objective coefficient exactly
as it folds in the owner's lease margin (:func:`planner.model.hosting.option_value_usd`).

Conventions (those of :mod:`planner.energy.economics`): months m = 0 .. H-1 of the horizon;
the flow of month m falls at index m + 1 and is discounted by D(c) = (1 + r_m)^-c, r_m the
monthly rate of the yearly discount rate; index 0 is now (capex). The contract starts at
month S (the AI start); contract month j is month S + j.

The contract, per kW, in contract month j < T (T the term, plus the renewals when they are
valued as exercised):

    rent       r_j = r_0 (1 + g)^floor(j / 12)                 (escalator g a contract year)
    net        n_j = a_j (r_j + e - o)                         (a_j the ramp's share)

with e the host's net power income per kW-month at full lease (0 when the energy is passed
through at cost, mu x cost with a margin mu, -cost when the rent includes it) and o the
host's fixed opex per kW-month.

Tenant risk. M, the months of rent the tenant pays, runs over 0 .. M_max, M_max = min(T, H - S)
(the contract months inside the horizon). With a yearly termination probability p (a constant
hazard) the tenant still pays in contract month j with probability u_j = (1 - p)^((j+1)/12), so

    P(M) = u_{M-1} - u_M   for M < M_max   (u_{-1} = 1),      P(M_max) = u_{M_max - 1}.

With a stated termination month M_0, P(min(M_0, M_max)) = 1. A tenant that leaves early
(M < M_max) pays a fee of k months of the rent then due, k a_M r_M, at index S + M; from
month E = S + M (also when the term ends inside the horizon, M = T, without a fee) the host
takes its fall-back, whose flows are B_E:

    idle       B_E = 0
    release    after N empty months, a new tenant at r'_i = r'_0 (1 + g)^floor(i / 12) for
               the rest of the horizon (power and opex as before, no further risk):
               B_E[m + 1] = r'_{m-E-N} + e - o   for m >= E + N
    mine       B_E[E] = -C (reconversion C_r per MW of AI facility power x PUE / 1000, plus
               the miners when bought then), and after L months n miners per kW run:
               B_E[m + 1] = n mu_m   for m >= E + L,
               mu_m: one miner's margin in month m at the hashprice path of that month.

The host takes a fall-back only when it is worth more than leaving the halls idle (its
present value is positive): the value of the fall-back at E is max(PV(B_E), 0). Miners kept
from the fleet for the fall-back cost their forgone salvage, n s per kW, at index 0 (for
every outcome: it is paid before anyone knows whether the tenant leaves).

The value given M, per kW, and what is reported:

    V(M) = sum_{j<M} n_j D(S+j+1) + [M < M_max] k a_M r_M D(S+M) + [E <= H] max(PV(B_E), 0) - K

    expected       sum_M P(M) V(M)                (= the NPV of the expected cash flows)
    worst          min over M < M_max of V(M)     (the tenant leaves at the worst time)

K the per-kW cost of miners kept for the fall-back. The NPV of the plan adds -capex of the
host at index 0 (and whatever the rest of the plan earns); "capex at risk" is the part of
the host's capex the worst-time departure leaves unrecovered, min(capex, max(0, -NPV_worst)).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from planner.energy.economics import monthly_rate


@dataclass(frozen=True)
class HostTerms:
    """One contract and its fall-back, per kW of contracted critical IT (see the module's maths)."""

    rent_usd_per_kw_month: float
    term_months: int  # T: the base term, plus renewals when valued as exercised
    escalator_per_year: float = 0.0
    ramp: tuple[tuple[int, float], ...] = ()  # (contract month, share) steps; () = all from month 0
    power_usd_per_kw_month: float = 0.0  # e: the host's net power income at full lease
    opex_usd_per_kw_month: float = 0.0  # o: the host's fixed opex at full lease
    termination_probability_per_year: float = 0.0
    termination_month: int | None = None
    termination_fee_months: float = 0.0
    fallback: str = "idle"  # idle | release | mine
    release_after_months: int = 0
    release_rent_usd_per_kw_month: float = 0.0
    fallback_cost_usd_per_kw: float = 0.0  # C, paid when the fall-back to mining starts
    fallback_delay_months: int = 0  # L: tenant gone to miners running
    fallback_margin_usd_per_kw_month: np.ndarray = field(default_factory=lambda: np.zeros(0))  # n mu_m, by month m
    kept_usd_per_kw: float = 0.0  # K: salvage forgone now on miners kept for the fall-back


def ramp_share(ramp: tuple[tuple[int, float], ...], months: int) -> np.ndarray:
    """a_j for j = 0 .. months-1: the share of the last ramp step at or before j (0 before the
    first step; 1 throughout without a ramp)."""
    if not ramp:
        return np.ones(months)
    share = np.zeros(months)
    for month, value in ramp:
        share[min(month, months):] = value
    return share


def rent_schedule(rent: float, escalator: float, months: int) -> np.ndarray:
    """r_j = r_0 (1 + g)^floor(j / 12) for j = 0 .. months-1, USD per kW-month."""
    return rent * (1 + escalator) ** (np.arange(months) // 12)


@dataclass(frozen=True)
class HostValuation:
    """A contract's value per kW: by the months of rent paid (M = 0 .. M_max), and expected."""

    start: int
    horizon: int
    probability: np.ndarray  # P(M)
    flows: np.ndarray  # (M_max + 1) x (H + 1): the cash flows per kW given M
    value: np.ndarray  # V(M), present value per kW
    fallback_value: np.ndarray  # max(PV(B_E), 0) at E = S + M (0 where no fall-back starts)

    @property
    def expected_usd_per_kw(self) -> float:
        return float(self.probability @ self.value)

    @property
    def expected_flows(self) -> np.ndarray:
        """The expected cash flow per kW at each index 0 .. H."""
        return self.probability @ self.flows

    @property
    def worst_exit(self) -> int:
        """The months of rent paid before the worst departure (M_max when no departure is
        possible inside the horizon)."""
        early = self.value[:-1]
        return int(np.argmin(early)) if early.size else len(self.value) - 1

    @property
    def worst_usd_per_kw(self) -> float:
        return float(self.value[self.worst_exit])


def value_contract(terms: HostTerms, start: int, horizon: int, discount_rate: float) -> HostValuation:
    """The flows and values of :class:`HostTerms` for a contract starting at month ``start``
    of a ``horizon``-month plan (the module's docstring gives the maths)."""
    h, s = horizon, min(start, horizon)
    t = terms.term_months
    m_max = max(0, min(t, h - s))
    disc = (1 + monthly_rate(discount_rate)) ** -np.arange(h + 1, dtype=float)
    share = ramp_share(terms.ramp, t)
    rent = rent_schedule(terms.rent_usd_per_kw_month, terms.escalator_per_year, t)
    net = share * (rent + terms.power_usd_per_kw_month - terms.opex_usd_per_kw_month)

    # P(M)
    if terms.termination_month is not None:
        prob = np.zeros(m_max + 1)
        prob[min(terms.termination_month, m_max)] = 1.0
    else:
        u = (1 - terms.termination_probability_per_year) ** (np.arange(m_max + 1) / 12)  # u_{M-1}
        prob = np.append(u[:-1] - u[1:], u[-1])

    flows = np.zeros((m_max + 1, h + 1))
    rows = np.arange(m_max + 1)
    # rent months: contract month j paid (index S + j + 1) when j < M
    j = np.arange(m_max)
    flows[:, s + 1:s + 1 + m_max] = np.where(j[None, :] < rows[:, None], net[:m_max][None, :], 0.0)
    # fees of early departures
    early = rows[:-1]
    flows[early, s + early] += terms.termination_fee_months * share[early] * rent[early]
    # the fall-back from E = S + M, when a departure or the end of the term falls inside the horizon
    fallback = np.zeros(m_max + 1)
    events = [int(m) for m in rows if m < m_max or m_max == t]
    for m in events:
        b = fallback_flows(terms, s + m, h)
        pv = float(b @ disc)
        if pv > 0:
            flows[m] += b
            fallback[m] = pv
    flows[:, 0] -= terms.kept_usd_per_kw
    return HostValuation(s, h, prob, flows, flows @ disc, fallback)


def fallback_flows(terms: HostTerms, event: int, horizon: int) -> np.ndarray:
    """B_E: the fall-back's cash flows per kW (indices 0 .. H) when the tenant is gone from
    month ``event`` on."""
    b = np.zeros(horizon + 1)
    if event >= horizon or terms.fallback == "idle":
        return b
    if terms.fallback == "release":
        first = event + terms.release_after_months  # first re-leased month
        if first < horizon:
            n = horizon - first
            b[first + 1:] = (rent_schedule(terms.release_rent_usd_per_kw_month, terms.escalator_per_year, n)
                             + terms.power_usd_per_kw_month - terms.opex_usd_per_kw_month)
        return b
    if terms.fallback == "mine":
        b[event] -= terms.fallback_cost_usd_per_kw
        first = event + terms.fallback_delay_months
        margin = terms.fallback_margin_usd_per_kw_month
        if first < horizon:
            b[first + 1:] = margin[first:horizon]
        return b
    raise ValueError(f"unknown fall-back {terms.fallback!r}")


def mining_margin_by_month(revenue_usd_per_hour: float, facility_mw: np.ndarray, price_usd_per_mwh: np.ndarray,
                           hours: np.ndarray, opex_usd_per_month: float, factors: np.ndarray) -> np.ndarray:
    """mu_m: one miner's margin in each month m, USD, running in the steps that pay at that
    month's hashprice (revenue R f_m an hour, f_m the hashprice path's factor):

        mu_m = sum_t [R f_m > u_t p_t] (R f_m - u_t p_t) h_t / 12 - opex

    u_t the miner's facility MW in step t, p_t the price, h_t the step's hours a year. Months of
    equal factor are worked out once."""
    out = np.empty(len(factors))
    energy = np.broadcast_to(facility_mw * price_usd_per_mwh, np.shape(hours))
    for f in np.unique(factors):
        gain = revenue_usd_per_hour * f - energy
        out[factors == f] = float((np.where(gain > 0, gain, 0.0) * hours).sum()) / 12 - opex_usd_per_month
    return out
