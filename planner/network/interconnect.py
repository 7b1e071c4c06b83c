"""The interconnect between sites or buildings: from the bandwidth that must cross and the
route length, size every way of carrying it that the catalog offers and pick the cheapest
that meets both.

Two families, each sized in its own function with the counts in its docstring:

- grey optics over dark fibre (:func:`size_grey`): IM-DD modules such as 400G-FR4 (2 km)
  or 400G-LR4 (10 km), one module at each end of a link, their lit fibres on dark fibre;
- coherent pluggables over a DWDM line system (:func:`size_coherent`): 400ZR, OpenZR+ or
  800ZR modules, one wavelength each, multiplexed onto fibre pairs by a mux/demux at each end,
  with an EDFA booster and pre-amplifier per direction and in-line EDFAs every span.

Everything is read from the catalog (optics.toml, line-systems.toml, the estimates); a part
without a price or a power figure is named, never counted as zero. Each option also pays for
its dark fibre: the fibres it lays (lit x (1 + spare)) over the route, in fibre-pair-km at the
labelled estimate ``dark-fibre-pair-km`` (catalogs/estimates.toml; an overlay may override it),
paid once like the rest (a build, or an IRU paid up front); glass draws no power.

The stage is pure: :func:`size_interconnect` takes a catalog and a :class:`Need` and returns
an :class:`Interconnect`. A need no option can carry raises
:class:`planner.errors.InputError` naming the file, key and line it came from (exit 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from planner.errors import InputError, Problem
from planner.parts.catalog import Catalog
from planner.parts.models import LinePart, Optic

CABLE_SIZES_FIBERS = (864, 1728, 3456)  # high-count campus cables (catalogs/cables.toml)
# Group index of standard single-mode fibre, about 1.468: pingdo.net's G.652.D refractive-index
# tool uses 1.467 for SMF-28; Fluke Networks' DSP-FTA knowledge base programs 1.4719 for
# 9/125 singlemode at 1300 nm (the index falls towards 1550 nm). Corning's sheet was not read.
FIBRE_GROUP_INDEX = 1.468
LIGHT_KM_PER_S = 299_792.458
US_PER_KM = FIBRE_GROUP_INDEX / LIGHT_KM_PER_S * 1e6  # one-way latency in fibre, about 4.9 us/km
DARK_FIBRE = "dark-fibre-pair-km"  # the estimate's key: USD per fibre pair per km of route


@dataclass(frozen=True)
class Need:
    """What must cross one route: ``gbps`` each way, over ``route_km`` of fibre path.
    ``spare`` is the share of extra fibres laid beyond those lit (0.5 = half again)."""

    gbps: float
    route_km: float
    spare: float = 0.0


def fibre_pairs_text(n: int) -> str:
    """ "1 fibre pair", "7 fibre pairs": a count of fibre pairs as the outputs say it."""
    return f"{n:,} fibre pair" + ("" if n == 1 else "s")


def crossing_gbps(bisection_gbps: float, share: float) -> float:
    """Bandwidth that must cross when a cluster is split between two places: ``share`` of
    its bisection bandwidth (1.0 = the split is non-blocking, 0.25 = 4:1 oversubscribed)."""
    if not 0 < share <= 1:
        raise ValueError(f"share of the bisection must be in (0, 1], not {share}")
    return bisection_gbps * share


@dataclass(frozen=True)
class PartCount:
    """One part of an option: quantity, and its unit power and price with their basis
    (None where the catalog has no figure)."""

    key: str
    quantity: float  # units (the dark fibre: fibre-pair-km)
    unit_w: float | None
    unit_usd: float | None
    power_basis: str
    price_basis: str
    estimate: bool


@dataclass(frozen=True)
class LinkPlan:
    """One way of carrying a :class:`Need`, with every count a person can re-derive."""

    kind: Literal["grey", "coherent"]
    module: str
    links: int                # module pairs (each one wavelength when coherent)
    modules: int              # 2 x links: one at each end
    wavelengths: int          # 0 for grey optics
    fibre_pairs: int
    fibres: int               # laid: lit fibres x (1 + spare)
    cable_fibers: int
    cables: int
    mux: str | None
    muxes: int
    amplifier: str | None
    inline_sites: int
    amplifiers: int
    latency_us: float
    parts: tuple[PartCount, ...]
    route_km: float = 0.0

    @property
    def fibre_pair_km(self) -> float:
        """The dark fibre it pays for: fibres laid / 2 x route km, to the metre."""
        return round(self.fibres / 2 * self.route_km, 3)

    @property
    def power_w(self) -> float | None:
        """W of all parts, or None when one lacks a figure (see :attr:`missing_power`)."""
        return None if self.missing_power else sum(p.quantity * (p.unit_w or 0.0) for p in self.parts)

    @property
    def cost_usd(self) -> float | None:
        """USD of all parts, or None when one lacks a price (see :attr:`missing_price`)."""
        return None if self.missing_price else sum(p.quantity * (p.unit_usd or 0.0) for p in self.parts)

    @property
    def missing_power(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parts if p.unit_w is None)

    @property
    def missing_price(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parts if p.unit_usd is None)

    @property
    def estimated(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parts if p.estimate)


@dataclass(frozen=True)
class Interconnect:
    """Every option that carries the need, why the others do not, and the one chosen
    (the cheapest fully priced; None with ``why`` when none is fully priced)."""

    need: Need
    options: tuple[LinkPlan, ...]
    refused: tuple[str, ...]
    chosen: LinkPlan | None
    why: str


def latency_us(route_km: float) -> float:
    """One-way propagation delay: km x group index / c, about 4.9 us per km."""
    return route_km * US_PER_KM


def _cables(lit_fibres: int, spare: float) -> tuple[int, int, int]:
    """(fibres laid, fibres per cable, cables): laid = ceil(lit x (1 + spare)); the smallest
    high-count cable that holds them, else as many of the largest as needed."""
    laid = math.ceil(lit_fibres * (1 + spare))
    size = next((c for c in CABLE_SIZES_FIBERS if c >= laid), CABLE_SIZES_FIBERS[-1])
    return laid, size, math.ceil(laid / size)


def grey_reach_m(catalog: Catalog, gbps: float | None = None) -> float:
    """The longest reach of a grey (not coherent) module in the catalog, m: a link between
    buildings whose route is longer is carried by the route's interconnect.

    Without ``gbps``: the longest grey single-mode module of any speed (10 km, the 400G-LR4's,
    with the bundled catalog). With ``gbps``: the longest grey module of that speed a port
    (gbps / ports; 10 km at 400G, 2 km at 800G, the 2xFR4's, 500 m at 1.6T, 50 m at 200G, where
    only multimode serves), or the answer without it where no module of that speed is listed
    (then the tier's media choice says what is missing)."""
    key = ("grey-reach", gbps)
    found = catalog.memo.get(key)
    if found is None:
        reaches = [o.reach_m for o in catalog.optics.values() if o.optic_class != "zr" and o.reach_m is not None
                   and (o.medium == "smf" if gbps is None else math.isclose(o.gbps / o.ports, gbps))]
        found = catalog.memo[key] = max(reaches) if reaches else (0.0 if gbps is None else grey_reach_m(catalog))
    return float(found)


def _fibre(catalog: Catalog, fibres: int, route_km: float) -> PartCount:
    """The dark fibre of an option: fibres / 2 x km fibre-pair-km at the estimate's price."""
    price = catalog.unit_cost(DARK_FIBRE)
    return PartCount(DARK_FIBRE, round(fibres / 2 * route_km, 3), 0.0, price[0] if price else None,
                     "glass: draws no power", price[1] if price else "no price",
                     bool(price and price[1].startswith("ESTIMATE")))


def _part(catalog: Catalog, key: str, quantity: int) -> PartCount:
    power = catalog.power(key)
    price = catalog.unit_cost(key)
    estimate = bool((power and power.estimated) or (price and price[1].startswith("ESTIMATE")))
    return PartCount(key, quantity, power.watts if power else None, price[0] if price else None,
                     power.basis if power else "no power figure", price[1] if price else "no price",
                     estimate)


def size_grey(catalog: Catalog, optic: Optic, need: Need) -> LinkPlan:
    """Grey optics over dark fibre.

    links = ceil(gbps / module gbps); modules = 2 x links;
    fibre pairs = ceil(links x fibres lit per module / 2);
    cables from fibres laid = ceil(2 x pairs x (1 + spare));
    dark fibre = fibres laid / 2 x route km (fibre-pair-km).
    """
    links = math.ceil(need.gbps / optic.gbps)
    pairs = math.ceil(links * (optic.fibers_lit or 2) / 2)
    laid, size, cables = _cables(2 * pairs, need.spare)
    return LinkPlan("grey", optic.key, links, 2 * links, 0, pairs, laid, size, cables, None, 0, None, 0, 0,
                    latency_us(need.route_km), (_part(catalog, optic.key, 2 * links),
                                                _fibre(catalog, laid, need.route_km)), need.route_km)


def size_coherent(catalog: Catalog, optic: Optic, mux: LinePart, amp: LinePart, need: Need) -> LinkPlan:
    """Coherent pluggables over a DWDM line system, one wavelength per module pair.

    wavelengths = links = ceil(gbps / module gbps); modules = 2 x links;
    fibre pairs = ceil(wavelengths / mux channels); muxes = 2 x fibre pairs (one each end);
    spans = ceil(km / amplifier span); in-line sites = spans - 1;
    amplifiers = fibre pairs x 2 directions x (booster + in-line sites + pre-amplifier);
    dark fibre = fibres laid / 2 x route km (fibre-pair-km), fibres laid = ceil(2 x pairs x (1 + spare)).
    """
    assert mux.channels and amp.span_km  # _line_parts keeps only parts with both
    links = math.ceil(need.gbps / optic.gbps)
    pairs = math.ceil(links / mux.channels)
    inline = max(math.ceil(need.route_km / amp.span_km) - 1, 0)
    amplifiers = pairs * 2 * (inline + 2)
    laid, size, cables = _cables(2 * pairs, need.spare)
    parts = (_part(catalog, optic.key, 2 * links), _part(catalog, mux.key, 2 * pairs),
             _part(catalog, amp.key, amplifiers), _fibre(catalog, laid, need.route_km))
    return LinkPlan("coherent", optic.key, links, 2 * links, links, pairs, laid, size, cables, mux.key, 2 * pairs,
                    amp.key, inline, amplifiers, latency_us(need.route_km), parts, need.route_km)


def _line_parts(catalog: Catalog) -> tuple[list[LinePart], list[LinePart]]:
    parts = [e.item for _, e in sorted(catalog.entries["line_systems"].items())]
    return ([p for p in parts if p.role == "mux" and p.channels and p.spacing_ghz],
            [p for p in parts if p.role == "amplifier" and p.span_km])


Fits = Callable[[Optic], "str | None"]  # why a module cannot plug in where the links end (None: it fits)


def size_options(catalog: Catalog, need: Need, plugs: Fits | None = None) -> tuple[list[LinkPlan], list[str]]:
    """Every option of the catalog that reaches ``need.route_km`` (and, given ``plugs``, plugs
    into the ports at the ends of the links it carries), and why each other single-mode module
    or line combination does not."""
    options: list[LinkPlan] = []
    refused: list[str] = []
    muxes, amps = _line_parts(catalog)
    metres = need.route_km * 1000
    for key, entry in sorted(catalog.entries["optics"].items()):
        optic = entry.item
        if optic.medium != "smf" or optic.optic_class == "lpo":
            continue
        if optic.reach_m is None or optic.reach_m < metres:
            refused.append(f"{key}: reach {(optic.reach_m or 0) / 1000:g} km < route {need.route_km:g} km")
            continue
        why = plugs(optic) if plugs is not None else None
        if why:
            refused.append(f"{key}: {why}")
            continue
        if optic.optic_class != "zr":
            options.append(size_grey(catalog, optic, need))
            continue
        fits = [m for m in muxes if optic.channel_ghz and m.spacing_ghz and m.spacing_ghz >= optic.channel_ghz]
        if not fits or not amps:
            refused.append(f"{key}: no line system in the catalog for it (needs a mux with channels of "
                           f"{optic.channel_ghz or '?'} GHz or wider and an amplifier with a span)")
            continue
        options += [size_coherent(catalog, optic, m, a, need) for m in fits for a in amps]
    return options, refused


def size_interconnect(catalog: Catalog, need: Need, *, file: str = "", key: str = "",
                      line: int | None = None, fits: Fits | None = None) -> Interconnect:
    """Size every option for ``need`` and choose the cheapest fully priced one (ties: less
    power, then fewer fibre pairs, then the module of shorter reach that suffices, so that an
    equally priced 400ZR is kept over OpenZR+ within its 120 km, then the key). ``fits`` says
    why a module cannot plug in where the links end (the switch ports of a campus's crossing
    links; None between sites, whose ports the planner does not know). ``file``, ``key`` and
    ``line`` say where the need came from, for the message when nothing carries it
    (:class:`InputError`, exit 2)."""
    if not (math.isfinite(need.gbps) and need.gbps > 0 and math.isfinite(need.route_km) and need.route_km > 0
            and need.spare >= 0):
        raise InputError([Problem(file, key, f"an interconnect needs bandwidth > 0 and a route > 0 km "
                                             f"(got {need.gbps:g} Gb/s over {need.route_km:g} km)", line)])
    unfit: list[str] = []

    def noted(optic: Optic) -> str | None:
        why = fits(optic) if fits is not None else None
        if why:
            unfit.append(f"{optic.key}: {why}")
        return why

    options, refused = size_options(catalog, need, noted)
    if not options and unfit:
        raise InputError([Problem(
            file, key, f"no module that reaches {need.route_km:g} km plugs into the ports at the ends of the links "
                       "it must carry: " + "; ".join(unfit), line,
            "choose switches whose cages take the module (protocol, cage type, power class and port speed), "
            "or add such a module in a catalog overlay")])
    if not options:
        longest = max((e.item.reach_m or 0 for e in catalog.entries["optics"].values()
                       if e.item.medium == "smf"), default=0)
        raise InputError([Problem(
            file, key, f"no optic or line system in the catalog reaches {need.route_km:g} km (the longest "
                       f"reach is {longest / 1000:g} km): " + "; ".join(refused), line,
            "shorten the route, or add a longer-reach module and its line system in a catalog overlay")])
    priced = [o for o in options if o.cost_usd is not None]
    if not priced:
        missing = sorted({k for o in options for k in o.missing_price})
        return Interconnect(need, tuple(options), tuple(refused), None,
                            f"no option is fully priced; no price for {', '.join(missing)} "
                            "(give them under [costs] or in an overlay's estimates)")
    reach = {k: e.item.reach_m or math.inf for k, e in catalog.entries["optics"].items()}
    best = min(priced, key=lambda o: (o.cost_usd, math.inf if o.power_w is None else o.power_w, o.fibre_pairs,
                                      reach.get(o.module, math.inf), o.module))
    return Interconnect(need, tuple(options), tuple(refused), best,
                        f"cheapest of {len(priced)} priced option(s) that carry {need.gbps:g} Gb/s "
                        f"over {need.route_km:g} km")


def interconnect_doc(result: Interconnect) -> dict:
    """The JSON shape of a sized interconnect (summary.json, campus trunks beyond grey reach): the
    need, the chosen option (None when none is fully priced, with the reason), and each
    option's counts, power and cost with what is missing or estimated."""

    def option(o: LinkPlan) -> dict:
        return {"kind": o.kind, "module": o.module, "links": o.links, "modules": o.modules,
                "wavelengths": o.wavelengths, "fibre_pairs": o.fibre_pairs, "fibres": o.fibres,
                "cable_fibers": o.cable_fibers, "cables": o.cables, "mux": o.mux, "muxes": o.muxes,
                "amplifier": o.amplifier, "inline_amplifier_sites": o.inline_sites, "amplifiers": o.amplifiers,
                "latency_us": round(o.latency_us, 2), "fibre_pair_km": o.fibre_pair_km,
                "power_w": o.power_w, "cost_usd": o.cost_usd,
                "no_power_figure": list(o.missing_power), "no_price": list(o.missing_price),
                "estimated": list(o.estimated)}

    return {"gbps": result.need.gbps, "route_km": round(result.need.route_km, 3),
            "chosen": option(result.chosen) if result.chosen else None, "why": result.why,
            "options": [option(o) for o in result.options], "refused": list(result.refused)}
