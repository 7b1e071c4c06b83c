"""The portfolio file: several site files planned together under shared constraints.

One pydantic declaration (unknown keys refused, each key's meaning in its description);
``docs/portfolio-reference.md`` is generated from it. Site paths resolve against the
portfolio file's folder; every site file must be valid on its own (``planner validate``).
:func:`load_portfolio` reads a file and raises :class:`~planner.errors.InputError` naming
the file, the dotted key and the line of every problem.

The timing rule (the optimisation's, :mod:`planner.model.portfolio`): a plan started
``s`` months late has every monthly cash flow moved ``s`` months later, so its NPV is the
site's NPV x (1 + r_m)^-s (r_m the monthly rate of the site's own yearly discount rate),
its capex falls in portfolio year floor(s / 12) + 1 and its AI load comes online at the
site's AI start month + s. The months of a delay earn nothing in the portfolio (a mine's
present business during them is not counted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from planner.errors import InputError, Problem, display_path
from planner.site.schema import Name
from planner.tomlpos import line_of

MAX_SITES = 20
MAX_STARTS = 12
MAX_SIZES = 6  # each size is another solve of the site's scenarios
MAX_USD = 1e13  # a bound far above any portfolio's budget


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PortfolioSite(Part):
    """One site of the portfolio: its site file and, optionally, which scenarios and start months it may use."""

    file: str = Field(min_length=1, description="the site file (TOML), relative to the portfolio file")
    name: Name | None = Field(None, description="the site's name in the portfolio (default: the file's stem)")
    scenarios: list[Name] | None = Field(None, min_length=1, description="the scenarios it may use (default: all)")
    start_months: list[int] | None = Field(None, min_length=1, max_length=MAX_STARTS, description=(
        "the start delays it may use, months (default: [timing] start_months)"))
    sizes_gpus: list[int] | None = Field(None, min_length=1, max_length=MAX_SIZES, description=(
        "smaller cluster sizes it may offer besides its own best: each caps its GPUs (ai.max_gpus, and a "
        "scenario's own max_gpus when larger) and the site's own solve picks its best plan within the cap; "
        "the portfolio chooses among them (a cap that changes nothing adds no plan)"))

    @field_validator("sizes_gpus")
    @classmethod
    def _sizes(cls, sizes: list[int] | None) -> list[int] | None:
        if sizes is not None:
            if any(not 1 <= g <= 10_000_000 for g in sizes):
                raise ValueError("each size must be between 1 and 10,000,000 GPUs")
            if len(set(sizes)) != len(sizes):
                raise ValueError("sizes must not repeat")
        return sizes

    @property
    def label(self) -> str:
        return self.name or Path(self.file).stem


class Timing(Part):
    """When a site's plan may start, relative to the portfolio's month 0."""

    start_months: list[int] = Field([0], min_length=1, max_length=MAX_STARTS, description=(
        "the start delays every site may use, months (0 = now); a delay discounts the whole plan's flows"))

    @model_validator(mode="after")
    def _months(self) -> Timing:
        _check_months(self.start_months)
        return self


def _check_months(months: list[int]) -> None:
    if any(m < 0 or m > 120 for m in months):
        raise ValueError("start months must be between 0 and 120")
    if len(set(months)) != len(months):
        raise ValueError("start months must not repeat")


class Budget(Part):
    """The capex the portfolio may spend (the owner's capex; a host plan's host capex)."""

    capex_usd_total: float | None = Field(None, gt=0, le=MAX_USD, description="capex over all years, USD")
    capex_usd_per_year: list[float] | None = Field(None, min_length=1, max_length=10, description=(
        "capex in each portfolio year (year 1 = months 0-11, ...), USD; years after the list have no limit"))

    @model_validator(mode="after")
    def _years(self) -> Budget:
        if self.capex_usd_per_year is not None and any(not 0 <= v <= MAX_USD for v in self.capex_usd_per_year):
            raise ValueError(f"each year's capex must be between 0 and {MAX_USD:g} USD")
        return self


class Target(Part):
    """What the portfolio must deliver by a month: GPUs and/or MW of critical IT online."""

    by_month: int = Field(ge=0, le=240, description="the month by which the AI load must be online (0 = now)")
    gpus: int | None = Field(None, ge=1, le=10_000_000, description="GPUs online by then, at least")
    critical_it_mw: float | None = Field(None, gt=0, le=100_000, description=(
        "MW of the AI's critical IT load (servers and fabric) online by then, at least"))

    @model_validator(mode="after")
    def _some(self) -> Target:
        if self.gpus is None and self.critical_it_mw is None:
            raise ValueError("give gpus or critical_it_mw (or both)")
        return self


class Tenant(Part):
    """A tenant's contract shared by the host sites (scenarios with [hosting])."""

    max_contracted_mw: float | None = Field(None, gt=0, le=100_000, description=(
        "the tenant's total contracted critical IT, MW: the host plans chosen may contract at most this"))
    min_contracted_mw: float | None = Field(None, gt=0, le=100_000, description=(
        "the critical IT the tenant has signed for, MW: the host plans chosen must contract at least this"))

    @model_validator(mode="after")
    def _some(self) -> Tenant:
        if self.max_contracted_mw is None and self.min_contracted_mw is None:
            raise ValueError("give max_contracted_mw or min_contracted_mw (or both)")
        if (self.max_contracted_mw is not None and self.min_contracted_mw is not None
                and self.min_contracted_mw > self.max_contracted_mw):
            raise ValueError("min_contracted_mw is above max_contracted_mw")
        return self


class Route(Part):
    """A fibre route between two sites of the portfolio."""

    from_: str = Field(alias="from", min_length=1, description="a site's name in the portfolio")
    to: str = Field(min_length=1, description="a site's name in the portfolio")
    km: float = Field(gt=0, le=20_000, description="route length of the fibre path, km")
    gbps: float | None = Field(None, gt=0, le=1e9, description=(
        "bandwidth that must cross each way, Gb/s (default: [interconnect] share_of_bisection of the smaller "
        "chosen cluster's bisection)"))

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)


class InterconnectTerms(Part):
    """How the links between the chosen sites are sized (planner.network.interconnect)."""

    share_of_bisection: float | None = Field(None, gt=0, le=1, description=(
        "share of the smaller cluster's bisection bandwidth (GPUs x scale-out Gb/s per GPU / 2) that must "
        "cross a route without its own gbps"))
    spare: float = Field(0.5, ge=0, le=10, description="extra fibres laid beyond those lit (0.5 = half again)")


class Portfolio(Part):
    """A portfolio file: the sites, the shared constraints and the routes between the sites."""

    schema_: int = Field(1, alias="schema", ge=1, le=1, description="the file format's version")
    name: Name = Field(description="the portfolio's name")
    sites: list[PortfolioSite] = Field(min_length=1, max_length=MAX_SITES, description="the sites ([[sites]])")
    timing: Timing = Field(default_factory=lambda: Timing(), description="the start delays the sites may use")
    budget: Budget | None = Field(None, description="the capex the portfolio may spend")
    target: Target | None = Field(None, description="what the portfolio must deliver by a month")
    tenant: Tenant | None = Field(None, description="a tenant's total contracted MW for the host sites")
    routes: list[Route] = Field(default_factory=list, description="fibre routes between sites ([[routes]])")
    interconnect: InterconnectTerms = Field(default_factory=lambda: InterconnectTerms(), description=(
        "how the links between the chosen sites are sized"))

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    @model_validator(mode="after")
    def _names(self) -> Portfolio:
        labels = [s.label for s in self.sites]
        twice = sorted({n for n in labels if labels.count(n) > 1})
        if twice:
            raise ValueError(f"site names must be unique: {', '.join(twice)} appear twice (give each a name)")
        for s in self.sites:
            if s.start_months is not None:
                _check_months(s.start_months)
        return self


@dataclass(frozen=True)
class LoadedPortfolio:
    """A validated portfolio with its file and the lines of its keys."""

    spec: Portfolio
    path: Path
    lines: dict = field(default_factory=dict, compare=False)

    @property
    def shown(self) -> str:
        return display_path(self.path)

    def line(self, *loc: str | int) -> int | None:
        return line_of(self.lines, loc)

    def site_path(self, index: int) -> Path:
        p = Path(self.spec.sites[index].file)
        return p if p.is_absolute() else self.path.parent / p

    def starts(self, index: int) -> list[int]:
        own = self.spec.sites[index].start_months
        return sorted(own if own is not None else self.spec.timing.start_months)


def is_portfolio_file(path: Path) -> bool:
    """A TOML file with [[sites]] and no [grid]: a portfolio file, not a site file (what
    ``planner validate`` and ``planner tui`` go by when not told)."""
    from planner.tomlio import read_toml

    try:  # the guarded reader: no device, no file over the size limit, no nesting too deep
        data, _ = read_toml(Path(path))
    except InputError:
        return False  # the caller reads it again as a site file and names the problem
    return "sites" in data and "grid" not in data


def load_portfolio(path: Path | str) -> LoadedPortfolio:
    """Read and validate a portfolio file: the schema's problems, then the references
    (:func:`reference_problems`), all at once; raise InputError naming each."""
    loaded = read_portfolio(path)
    problems = reference_problems(loaded)
    if problems:
        raise InputError(problems)
    return loaded


def read_portfolio(path: Path | str) -> LoadedPortfolio:
    """The portfolio file checked against its schema alone (InputError with every problem)."""
    from planner.site.load import read_model

    path = Path(path)
    spec, lines = read_model(path, Portfolio, kind="portfolio")
    return LoadedPortfolio(spec, path, lines)


def reference_problems(loaded: LoadedPortfolio) -> list[Problem]:
    """What the file refers to that is not there: site files that do not exist, routes naming
    unknown sites or joining a site to itself or twice, a route without a bandwidth when no
    share of the bisection is given."""
    from planner.errors import did_you_mean

    spec = loaded.spec
    problems: list[Problem] = []
    labels = [s.label for s in spec.sites]
    for i, s in enumerate(spec.sites):
        target = loaded.site_path(i)
        if not target.is_file():
            problems.append(Problem(loaded.shown, f"sites[{i}].file", f"no site file {s.file!r} "
                                    f"(looked for {display_path(target)})", loaded.line("sites", i, "file")))
    seen: set[frozenset[str]] = set()
    for i, r in enumerate(spec.routes):
        for end in ("from", "to"):
            name = r.from_ if end == "from" else r.to
            if name not in labels:
                problems.append(Problem(loaded.shown, f"routes[{i}].{end}", f"no site named {name!r} in the "
                                        "portfolio", loaded.line("routes", i, end), did_you_mean(name, labels)))
        pair = frozenset((r.from_, r.to))
        if r.from_ == r.to:
            problems.append(Problem(loaded.shown, f"routes[{i}]", "a route joins two different sites",
                                    loaded.line("routes", i)))
        elif pair in seen:
            problems.append(Problem(loaded.shown, f"routes[{i}]", f"a second route between {r.from_} and {r.to}",
                                    loaded.line("routes", i)))
        seen.add(pair)
        if r.gbps is None and spec.interconnect.share_of_bisection is None:
            problems.append(Problem(loaded.shown, f"routes[{i}].gbps", "the route states no bandwidth and "
                                    "[interconnect] gives no share_of_bisection", loaded.line("routes", i),
                                    "give gbps on the route or share_of_bisection under [interconnect]"))
    return problems
