"""Fabric counts against published reference architectures and identities."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.network.fabric import FabricError, FabricSpec, count_fabric


@pytest.mark.parametrize(
    ("su", "nodes", "gpus", "leaf", "spine", "node_leaf", "leaf_spine"),
    [
        # NVIDIA DGX SuperPOD reference architecture, DGX B200, NDR 400G (QM9700):
        # compute fabric table (SU = 32 DGX B200).
        (2, 64, 512, 16, 8, 512, 512),
        (4, 128, 1024, 32, 16, 1024, 1024),
        (8, 256, 2048, 64, 32, 2048, 2048),
    ],
)
def test_dgx_b200_superpod_table(catalog, su, nodes, gpus, leaf, spine, node_leaf, leaf_spine):
    f = count_fabric(FabricSpec(servers=nodes, server="dgx-b200", leaf_switch="qm9700"), catalog)
    assert f.gpus == gpus
    assert f.tiers == 2
    assert f.scalable_units == su
    assert f.switches["leaf"] == leaf
    assert f.switches["spine"] == spine
    assert f.links["node_leaf"] == node_leaf
    assert f.links["leaf_spine"] == leaf_spine


@pytest.mark.parametrize("servers", [1, 7, 32, 33, 100, 256, 257, 1000, 4096, 8192])
def test_port_conservation_and_bundles(catalog, servers):
    f = count_fabric(FabricSpec(servers=servers, server="dgx-h100", leaf_switch="qm9700"), catalog)
    k = 64
    # every port used is counted once per switch end: leaf ports = down + up links
    assert f.switches["leaf"] * k - f.ports_free["leaf"] == f.links["node_leaf"] + f.links["leaf_spine"]
    assert f.ports_free["leaf"] >= 0 and f.ports_free["spine"] >= 0 and f.ports_free["core"] >= 0
    # non-blocking: links at each tier equal the endpoint links when SUs are full
    if servers % 32 == 0:
        assert f.links["leaf_spine"] == f.links["node_leaf"]
    # whole-number bundles: each leaf reaches each spine of its pod with b links
    if f.tiers == 2:
        assert f.links["leaf_spine"] == f.switches["leaf"] * f.switches["spine"] * f.bundles["leaf_spine"]


def test_three_tiers_reach_k_cubed_over_four(catalog):
    # k = 64: three tiers hold k^3/4 = 65,536 endpoints = 8,192 servers x 8 rails
    f = count_fabric(FabricSpec(servers=8192, server="dgx-h100", leaf_switch="qm9700"), catalog)
    assert f.tiers == 3
    assert f.links["node_leaf"] == 65_536
    assert f.switches == {"leaf": 2048, "spine": 2048, "core": 1024}  # 5k^2/4 switches in all
    with pytest.raises(FabricError):
        count_fabric(FabricSpec(servers=8193, server="dgx-h100", leaf_switch="qm9700"), catalog)


def test_two_tiers_hold_k_squared_over_two(catalog):
    # 64-port leaves: two tiers hold 64^2/2 = 2,048 endpoints = 256 servers x 8 rails
    assert count_fabric(FabricSpec(servers=256, server="dgx-h100", leaf_switch="qm9700"), catalog).tiers == 2
    assert count_fabric(FabricSpec(servers=257, server="dgx-h100", leaf_switch="qm9700"), catalog).tiers == 3


def test_fibre_and_connector_identities(catalog):
    f = count_fabric(FabricSpec(servers=128, server="dgx-b200", leaf_switch="qm9700"), catalog)
    nl = f.media["node_leaf"]
    # 400G over parallel multimode: 4 lanes x 2 fibres = 8 lit fibres per link
    assert nl.fibers == 8 * f.links["node_leaf"]
    # one MPO-12 cable per link, a connector at each end
    assert nl.cables == f.links["node_leaf"]
    assert sum(nl.connectors.values()) == 2 * nl.cables
    # twin-port modules: two links per module at the switch end
    assert nl.upper.units * 2 == f.links["node_leaf"]
    assert f.fibers == sum(m.fibers for m in f.media.values())


def test_oversubscription_puts_more_down_than_up(catalog):
    f = count_fabric(FabricSpec(servers=96, server="dgx-h100", leaf_switch="qm9700",
                                oversubscription=3.0), catalog)
    # 64 ports split 48 down : 16 up; 96 servers on one rail group of 48 -> 2 SUs
    assert f.servers_per_su == 48
    assert f.links["leaf_spine"] * 3 == f.links["node_leaf"]


def test_nvl72_racks_use_nvlink_inside_and_tray_nics_outside(catalog):
    # GB200 NVL72 (DGX GB user guide): 72 GPUs and 18 compute trays per rack, each tray
    # with 4 single-port 400G ConnectX-7. NVLink inside the rack uses no optics, so the
    # scale-out fabric sees 8 x 18 = 144 trays with 4 rails each: 576 links, one per GPU.
    f = count_fabric(FabricSpec(servers=8, server="gb200-nvl72", leaf_switch="qm9700"), catalog)
    assert f.gpus == 576
    assert f.scale_up_domains == 8
    assert f.endpoints == 144 and f.shape.rails == 4
    assert f.links["node_leaf"] == 576
    # one single-port module per NIC at the tray end
    assert f.media["node_leaf"].lower.units == 576


def test_the_fabric_tries_every_optic_class_of_the_catalog_once():
    """The classes are declared once (the catalog's Optic.optic_class); the fabric's order of
    trying them must name each, copper first, and know how each mates."""
    from planner.network.media import CLASS_ORDER, COMPATIBLE
    from planner.parts.models import COPPER_CLASSES, OPTIC_CLASSES

    assert sorted(CLASS_ORDER) == sorted(OPTIC_CLASSES) and len(set(CLASS_ORDER)) == len(CLASS_ORDER)
    assert CLASS_ORDER[:3] == COPPER_CLASSES == ("dac", "acc", "aec")
    assert set(OPTIC_CLASSES) <= set(COMPATIBLE)


@settings(max_examples=300, deadline=None)
@given(servers=st.integers(0, 5000), rails=st.integers(0, 8), per_su=st.integers(0, 300), sus=st.integers(0, 200),
       sus_per_pod=st.integers(0, 20), pods=st.integers(0, 30), tiers=st.integers(1, 3), spines=st.integers(0, 16),
       bundle=st.integers(0, 4))
def test_switch_groups_equal_the_su_by_su_definition(servers, rails, per_su, sus, sus_per_pod, pods, tiers, spines,
                                                     bundle):
    """Shape.groups counts in closed form; the definition walks SU by SU and pod by pod:
    each SU's rails leaves take that SU's servers, each pod's spines take its leaves'
    bundles, the cores take every pod's bundle."""
    from collections import Counter

    from planner.network.clos import Shape

    sh = Shape(servers, rails, 1, 400, tiers, per_su, sus, sus_per_pod, pods, 0, spines, 2, 3, 4, bundle, 1,
               {"leaf": 64, "spine": 64, "core": 64})
    want: Counter = Counter()
    for su in range(sus):
        want[("leaf", max(0, min(per_su, servers - su * per_su)), 3)] += rails
    if tiers >= 2:
        for pod in range(pods):
            leaves = max(0, min(sus_per_pod, sus - pod * sus_per_pod)) * rails
            want[("spine", leaves * bundle, 4)] += spines
    if tiers == 3:
        want[("core", pods * 1, 0)] += spines * 2
    got = {(g.role, g.down, g.up): g.count for g in sh.groups()}
    assert got == {k: n for k, n in want.items() if n}


def test_spine_oversubscription_keeps_spine_ports_in_two_tiers(catalog):
    """spine_oversubscription = 1 asks each spine to keep half its ports for a tier above.
    By hand: 128 DGX H100 x 8 rails on 64-port QM9700s: 1,024 server links, 32 leaves of
    32 down and 32 up, 1,024 leaf-spine links. A spine may take 64 - 64/2 = 32 of them, so
    32 spines (not 16 full ones), one link from each leaf to each spine, and 32 x 32 =
    1,024 spine ports left free for the tier above."""
    from planner.network.fabric import count_topology

    spec = FabricSpec(servers=128, server="dgx-h100", leaf_switch="qm9700", spine_oversubscription=1)
    shape, switches, links, free = count_topology(spec, catalog)
    assert shape.tiers == 2
    assert switches == {"leaf": 32, "spine": 32, "core": 0}
    assert links == {"node_leaf": 1024, "leaf_spine": 1024, "spine_core": 0}
    assert free["spine"] == 1024
    # without the setting every spine port is used: 16 spines of 64
    shape, switches, links, free = count_topology(FabricSpec(servers=128, server="dgx-h100", leaf_switch="qm9700"),
                                                  catalog)
    assert switches["spine"] == 16 and free["spine"] == 0


def test_a_module_goes_only_into_a_cage_of_its_form_factor():
    """The UfiSpace S9321-64E run at one 400G port a QSFP-DD cage (the metro-campus overlay):
    the catalog's 400G SR4 and DR4 modules are OSFP, so the first class whose module fits a
    QSFP-DD cage is FR (400G-FR4, QSFP-DD, duplex LC), and the DGX H100's OSFP cages take its
    mate, the twin-port OSFP 2 x FR4. By hand, 64 DGX H100 (8 x 400G NICs each): 512 node-leaf
    links, 16 leaves of 32 down and 32 up, 512 leaf-spine links; modules: 512 / 2 = 256 twin-port
    at the servers, 512 + 2 x 512 = 1,536 FR4 at the switches. Every switch end's module names
    the switch's cage type among its form factors."""
    from pathlib import Path

    from planner.network.media import form_factors
    from planner.parts.catalog import load_catalog

    overlay = Path(__file__).resolve().parent.parent / "sites" / "overlays" / "s9321-64e-400g"
    cat = load_catalog([overlay])
    f = count_fabric(FabricSpec(servers=64, server="dgx-h100", leaf_switch="s9321-64e-400g"), cat)
    assert (f.media["node_leaf"].lower.part, f.media["node_leaf"].upper.part) == ("osfp-800g-2xfr4", "400g-fr4")
    assert (f.media["leaf_spine"].lower.part, f.media["leaf_spine"].upper.part) == ("400g-fr4", "400g-fr4")
    assert f.links["node_leaf"] == 512 and f.links["leaf_spine"] == 512 and f.switches["leaf"] == 16
    assert f.transceivers == {"osfp-800g-2xfr4": 256, "400g-fr4": 1536}
    cage = form_factors(cat.switches["s9321-64e-400g"].cage_type)
    for tier in ("node_leaf", "leaf_spine"):
        switch_ends = [f.media[tier].upper] if tier == "node_leaf" else [f.media[tier].lower, f.media[tier].upper]
        for end in switch_ends:
            assert cage <= form_factors(cat.optics[end.part].form_factor), (tier, end.part)


def test_no_module_for_the_cages_is_a_fabric_error_naming_them(catalog):
    """The bundled S9321-64E in its 800G mode runs 2 x 400G a QSFP-DD cage: the catalog's
    twin 400G modules are all OSFP, so no module fits and the error names the cages (it used
    to list OSFP modules for QSFP-DD cages)."""
    with pytest.raises(FabricError, match="fits ufispace-s9321-64e's QSFP-DD cages"):
        count_fabric(FabricSpec(servers=64, server="dgx-h100", leaf_switch="ufispace-s9321-64e"), catalog)


@pytest.mark.parametrize(("text", "expected"), [
    ("OSFP (twin-port, finned top)", {"OSFP"}), ("QSFP-DD800 (type 2a) or OSFP", {"QSFP-DD800", "OSFP"}),
    ("QSFP-DD", {"QSFP-DD"}), ("QSFP112", {"QSFP112"}), ("OSFP twin-port (finned) to 2 x OSFP (flat top)", {"OSFP"}),
    ("QSFP-DD or OSFP", {"QSFP-DD", "OSFP"}), (None, set()), ("RJ45", set())])
def test_form_factors_read_from_the_catalog_text(text, expected):
    from planner.network.media import form_factors

    assert form_factors(text) == expected
