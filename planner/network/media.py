"""The media of a fabric's links: which optic or copper cable each end of a tier takes,
and the transceivers, connectors and fibres that follow.

Conventions
-----------
* A link has two ends. A pluggable end sits in a module (transceiver) that may carry
  several links (a twin-port 800G module carries two 400G links); a CPO end lands on the
  switch's front-panel connectors (8 lanes per MPO-16 unless the catalog says otherwise);
  a copper cable is its own module. Transceivers, cables, connectors and lit fibres are
  counted separately; fibres once per link.
* Both ends of a link share its lane structure (count and rate) and must mate: the same
  fibre type, optical family (parallel, WDM, coherent) and fibres per link
  (:func:`check_link`). Reach decides the class: copper first, then optics by reach
  (:data:`CLASS_ORDER`); within a class, the cheapest module, then the lowest power.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from planner.network.clos import FabricError, ports_at
from planner.parts.catalog import Catalog
from planner.parts.models import COPPER_CLASSES, Optic, Switch

CPO_LANES_PER_CONNECTOR = 8
CPO_CONNECTOR = "mpo-16-apc"
COPPER = COPPER_CLASSES
# optic classes that mate: the same fibre type and the same lane structure
COMPATIBLE = {**dict.fromkeys(COPPER_CLASSES, "copper"), "sr": "mmf-parallel",
              "dr": "smf-parallel", "lpo": "smf-parallel", "cpo": "smf-parallel",
              "fr": "smf-wdm", "lr": "smf-wdm", "zr": "coherent"}
# the order a link tries the classes in: copper, then optics by reach (every catalog class once)
CLASS_ORDER = (*COPPER_CLASSES, "sr", "dr", "lpo", "fr", "lr", "zr")
# the pluggable form factors a module's or a cage's text names (the longer name first: a
# QSFP-DD800 module is not taken for a QSFP-DD one, nor a QSFP112 for a QSFP)
_FORM_FACTOR = re.compile(r"\b(QSFP-DD800|QSFP-DD|QSFP112|QSFP56|QSFP28|QSFP\+|OSFP-XD|OSFP|SFP-DD|SFP56|SFP28|SFP\+)",
                          re.IGNORECASE)


def form_factors(text: str | None) -> set[str]:
    """The pluggable form factors a catalog text names, upper case ("OSFP (twin-port, finned
    top)" -> {"OSFP"}; "QSFP-DD800 (type 2a) or OSFP" -> {"QSFP-DD800", "OSFP"}; a copper
    assembly "OSFP twin-port (finned) to 2 x OSFP (flat top)" -> {"OSFP"}). Empty when the
    text names none (or is None): then nothing is known about the fit."""
    return {m.upper() for m in _FORM_FACTOR.findall(text or "")}


def cage_takes(switch: Switch | None, optic: Optic) -> bool:
    """A switch's front-panel cage takes the module (or copper plug): both form factors known
    and the cage's among the module's. Where either is not stated (a NIC end, a switch or an
    optic without the field) nothing is refused: the fit is not known, and the BOM lists the
    part the catalog names."""
    if switch is None or switch.optics != "pluggable":
        return True
    cage, module = form_factors(switch.cage_type), form_factors(optic.form_factor)
    return not cage or not module or bool(cage & module)


@dataclass(frozen=True)
class EndMedia:
    """One end of a tier's links: what plugs in there and how many."""

    kind: str  # module | cpo | copper | none
    part: str | None
    links_per_unit: int  # links per module, per CPO connector, per copper plug
    units: int  # modules, CPO connectors or copper plugs
    connector: str | None
    connectors: int


@dataclass(frozen=True)
class TierMedia:
    """The links of one tier and their media."""

    tier: str
    links: int
    link_gbps: float
    length_m: float
    optic_class: str
    lower: EndMedia
    upper: EndMedia
    cable_kind: str
    cables: int
    fibers_per_link: int

    @property
    def fibers(self) -> int:
        return self.links * self.fibers_per_link

    @property
    def connectors(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for end in (self.lower, self.upper):
            if end.connector and end.connectors:
                out[end.connector] += end.connectors
        return dict(out)


def links_per_cage(switch: Switch, gbps: float) -> int:
    """Links of ``gbps`` that one front-panel cage (one module) carries."""
    logical = ports_at(switch, gbps)
    cages = switch.cages or switch.ports
    return max(1, logical // cages)


@dataclass(frozen=True)
class Lanes:
    """The electrical/optical lane structure every end of a link must share: ``count``
    lanes of ``gbps`` each (None where no catalog entry says)."""

    count: int
    gbps: float | None

    def __str__(self) -> str:
        return f"{self.count} x {self.gbps:g}G lanes" if self.gbps else f"{self.count} lanes"


def link_lanes(gbps: float, *switches: Switch) -> Lanes:
    """Lanes of one link between these switches (and NICs): the switches' SerDes rate
    decides it. Switch ends with different lane rates cannot share a link (a gearbox
    would have to sit between them)."""
    rates = sorted({s.lane_gbps for s in switches if s.lane_gbps})
    if len(rates) > 1:
        raise FabricError(
            f"{' and '.join(s.key for s in switches)} run {' and '.join(f'{r:g}G' for r in rates)} lanes: "
            f"a {gbps:g}G link between them needs a gearbox, which the catalog does not list")
    if not rates:
        return Lanes(max(1, round(gbps / 100.0)), None)
    count = gbps / rates[0]
    if count < 1 or not math.isclose(count, round(count)):
        raise FabricError(f"{gbps:g}G links do not split into whole {rates[0]:g}G lanes")
    return Lanes(round(count), rates[0])


def lanes_fit(o: Optic, lanes: Lanes) -> bool:
    """The optic carries each of its links on ``lanes`` (count per link and rate)."""
    if o.lanes is not None and o.lanes != lanes.count * o.ports:
        return False
    return not (o.lane_gbps is not None and lanes.gbps is not None and not math.isclose(o.lane_gbps, lanes.gbps))


def _reaching(catalog: Catalog, cls: str, length: float, lanes: Lanes) -> Iterator[Optic]:
    """Optics (and copper cables) of class ``cls`` that reach ``length`` on the link's lanes."""
    for o in catalog.optics.values():
        if o.optic_class == cls and o.reach_m is not None and o.reach_m >= length and lanes_fit(o, lanes):
            yield o


def _fits(catalog: Catalog, cls: str, gbps: float, end: MediaEnd, length: float,
          family: str, lanes: Lanes) -> list[Optic]:
    """Modules (or straight cables) of class ``cls`` that carry ``end.per_module`` links of
    ``gbps``, each on the link's lanes, and fit the end's cage (:func:`cage_takes`)."""
    per_module = end.per_module
    out = [o for o in _reaching(catalog, cls, length, lanes)
           if o.split == 1 and o.ports == per_module and math.isclose(o.gbps, gbps * per_module)
           and not (family == "dsp" and o.dsp is False) and cage_takes(end.switch, o)]
    return sorted(out, key=lambda o: _rank(catalog, o))


def _rank(catalog: Catalog, o: Optic) -> tuple:
    """Within a class that reaches: the cheapest (list price or estimate), then the lowest power."""
    cost = catalog.unit_cost(o.key)
    power = catalog.power(o.key)
    return (cost is None, cost[0] if cost else 0.0, power is None, power.watts if power else 0.0, o.key)


def _splitters(catalog: Catalog, cls: str, gbps: float, lower: MediaEnd, upper: MediaEnd, length: float,
               lanes: Lanes) -> list[Optic]:
    """Copper splitters with a multi-link plug on one end and single-link plugs on the other,
    whose plugs fit both ends' cages."""
    out = [o for o in _reaching(catalog, cls, length, lanes)
           if o.split != 1 and math.isclose(o.gbps, gbps * o.ports) and not o.ports % o.split
           and {lower.per_module, upper.per_module} == {o.ports, o.ports // o.split}
           and cage_takes(lower.switch, o) and cage_takes(upper.switch, o)]
    return sorted(out, key=lambda o: _rank(catalog, o))


@dataclass(frozen=True)
class MediaEnd:
    kind: str  # "nic", "pluggable" or "cpo"
    per_module: int
    switch: Switch | None = None


def check_link(lower: Optic | None, upper: Optic | None, lanes: Lanes, gbps: float) -> None:
    """Both ends of a link must mate: the same lanes and rate, fibre type, optical
    family (parallel, WDM, coherent) and fibres per link. A CPO end (None) is parallel
    single-mode at the link's lanes. Raise FabricError naming what differs."""
    ends = [(o.key, o.medium, COMPATIBLE[o.optic_class], fibers_per_link(o, lanes.count)) if o is not None
            else ("co-packaged optics", "smf", "smf-parallel", 2 * lanes.count) for o in (lower, upper)]
    for o in (lower, upper):
        if o is not None and not lanes_fit(o, lanes):
            raise FabricError(f"{o.key} ({o.lanes} x {o.lane_gbps or 0:g}G lanes over {o.ports} port(s)) does not "
                              f"carry {gbps:g}G links as {lanes}")
    (ka, ma, fa, na), (kb, mb, fb, nb) = ends
    if ma != mb or fa != fb or na != nb:
        raise FabricError(f"the ends of a {gbps:g}G link do not mate: {ka} is {ma} {fa} with {na} fibres per link, "
                          f"{kb} is {mb} {fb} with {nb}")


def choose_media(catalog: Catalog, lower: MediaEnd, upper: MediaEnd, gbps: float, length: float,
                 family: str, lanes: Lanes | None = None) -> tuple[str, Optic | None, Optic | None]:
    """(class, lower optic, upper optic): the first class in CLASS_ORDER (copper, then
    multimode, then single-mode, roughly by cost) that reaches ``length`` and fits both
    ends on the link's lanes; within it the cheapest module, then the lowest power, at
    each end. The pair is checked end to end (:func:`check_link`)."""
    lanes = lanes or Lanes(max(1, round(gbps / 100.0)), None)
    if not math.isfinite(length):
        return _choose_media(catalog, lower, upper, gbps, length, family, lanes)
    # the answer depends on the length only through which optics reach it: the place of the
    # length among the catalog's reaches. Kept per catalog (a fitter asks thousands of times)
    reaches = catalog.memo.get(("reaches",))
    if reaches is None:
        reaches = catalog.memo[("reaches",)] = sorted({o.reach_m for o in catalog.optics.values()
                                                       if o.reach_m is not None})
    key = ("media", lower.kind, lower.per_module, _cage(lower), upper.kind, upper.per_module, _cage(upper), gbps,
           family, lanes, bisect.bisect_left(reaches, length))
    found = catalog.memo.get(key)
    if found is None:
        found = catalog.memo[key] = _choose_media(catalog, lower, upper, gbps, length, family, lanes)
    return found


def _cage(end: MediaEnd) -> str | None:
    """The end's cage type, part of what the choice depends on (None: no switch cage)."""
    return end.switch.cage_type if end.switch is not None and end.switch.optics == "pluggable" else None


def _choose_media(catalog: Catalog, lower: MediaEnd, upper: MediaEnd, gbps: float, length: float,
                  family: str, lanes: Lanes) -> tuple[str, Optic | None, Optic | None]:
    """:func:`choose_media` worked out (errors name ``length``: they are never kept)."""
    if family in catalog.optics:
        optic = catalog.optics[family]
        named: list[Optic | None] = []
        for end in (lower, upper):
            if end.kind == "cpo":
                named.append(None)
            elif optic.ports == end.per_module and math.isclose(optic.gbps, gbps * end.per_module):
                named.append(optic)
            else:
                raise FabricError(f"optic {optic.key!r} ({optic.ports} x {optic.gbps / optic.ports:g}G) "
                                  f"does not fit an end carrying {end.per_module} x {gbps:g}G")
        check_link(named[0], named[1], lanes, gbps)
        return optic.optic_class, named[0], named[1]
    cpo = [e for e in (lower, upper) if e.kind == "cpo"]
    if family == "cpo" and len([e for e in (lower, upper) if e.kind != "nic"]) != len(cpo):
        raise FabricError("optics 'cpo' needs co-packaged switches at every switch end")
    classes = [c for c in CLASS_ORDER if not (cpo and COMPATIBLE[c] != "smf-parallel")]
    if family == "lpo":
        classes = sorted(classes, key=lambda c: c != "lpo")
    for cls in classes:
        if cls in COPPER and cpo:
            continue
        picks: list[Optic | None] = []
        for end in (lower, upper):
            if end.kind == "cpo":
                picks.append(None)
                continue
            found = _fits(catalog, cls, gbps, end, length, family, lanes)
            if cls in COPPER and lower.per_module != upper.per_module:
                found = _splitters(catalog, cls, gbps, lower, upper, length, lanes)
            other = upper if end is lower else lower
            mate: list[Optic | None] = picks or ([None] if other.kind == "cpo" else [])
            found = [o for o in found if _mates(o, mate, lanes, gbps)]
            if not found:
                break
            picks.append(found[0])
        else:
            check_link(picks[0], picks[1], lanes, gbps)
            return cls, picks[0], picks[1]
    cages = [f"{e.switch.key}'s {c} cages" for e in (lower, upper) if e.switch is not None and (c := _cage(e))]
    raise FabricError(f"no optic in the catalog carries {gbps:g}G links as {lanes} over {length:g} m between "
                      f"ends of {lower.per_module} and {upper.per_module} links per module"
                      + (" (family " + family + ")" if family != "auto" else "")
                      + (" and a co-packaged end" if cpo else "")
                      + (f" and fits {' and '.join(cages)}" if cages else ""))


def _mates(o: Optic, picks: list[Optic | None], lanes: Lanes, gbps: float) -> bool:
    """The candidate mates with the end already picked (or with a CPO end)."""
    if not picks:
        return True
    try:
        check_link(picks[0], o, lanes, gbps)
    except FabricError:
        return False
    return True


def end_media(end: MediaEnd, optic: Optic | None, per_switch_links: list[tuple[int, int]],
               lanes_per_link: int, copper: bool) -> EndMedia:
    """Units and connectors at one end. ``per_switch_links``: (switches, links each)."""
    if end.kind == "cpo":
        sw = end.switch
        lanes = CPO_LANES_PER_CONNECTOR
        per_conn = max(1, lanes // max(1, lanes_per_link))
        units = _units(per_switch_links, per_conn)
        return EndMedia("cpo", sw.key if sw else None, per_conn, units,
                        (sw.fiber_connector if sw and sw.fiber_connector else CPO_CONNECTOR), units)
    per = end.per_module
    units = _units(per_switch_links, per)
    if optic is None:
        raise FabricError(f"no optic chosen for a {end.kind} end")  # choose_media gives one to every such end
    if copper:
        return EndMedia("copper", optic.key, per, units, None, 0)
    conns = (optic.connectors or 0) * units
    return EndMedia("module", optic.key, per, units, optic.connector, conns)


def _units(per_switch_links: list[tuple[int, int]], links_per_unit: int) -> int:
    """Modules (or connectors) at one end: each switch's links in units of ``links_per_unit``."""
    return sum(n * math.ceil(links / links_per_unit) for n, links in per_switch_links)


def fibers_per_link(optic: Optic | None, lanes_per_link: int) -> int:
    """Fibres one link lights: the optic's lit fibres per port, else none on copper and 2 a
    lane on parallel optics (``None``: a CPO end, parallel single-mode)."""
    if optic is None:
        return 2 * lanes_per_link
    if optic.fibers_lit is None:
        return 0 if optic.medium in COPPER else 2 * lanes_per_link
    return optic.fibers_lit // optic.ports


def links_per_connector(end: EndMedia, optic: Optic | None) -> int:
    """Links sharing one connector at an end (2 on a CPO MPO-16 carrying 2 x 400G)."""
    if end.kind == "cpo":
        return end.links_per_unit
    if optic is None or not optic.connectors:
        return 1
    return max(1, optic.ports // optic.connectors)
