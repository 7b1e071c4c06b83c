"""Published fabrics reproduced. Expected numbers are read from the publications (see
docs/research-fabrics.md for the tables and where each was read), never from the code."""

from __future__ import annotations

import json

import pytest

from planner.app.cli import main
from planner.network.fabric import FabricSpec, count_fabric


# NVIDIA DGX SuperPOD reference architecture, DGX B200: "larger configurations" table
# (docs.nvidia.com/dgx-superpod/reference-architecture-scalable-infrastructure-b200,
# dgx-superpod-architecture page). SU = 32 DGX B200; QM9700 64 x NDR400.
@pytest.mark.parametrize(
    ("su", "nodes", "leaf", "spine", "core", "links"),
    [
        (2, 64, 16, 8, 0, 512),
        (4, 128, 32, 16, 0, 1024),
        (8, 256, 64, 32, 0, 2048),
        (16, 512, 128, 128, 64, 4096),
        (32, 1024, 256, 256, 128, 8192),
        (64, 2048, 512, 512, 256, 16384),
    ],
)
def test_dgx_b200_superpod_larger_configurations(catalog, su, nodes, leaf, spine, core, links):
    f = count_fabric(FabricSpec(servers=nodes, server="dgx-b200", leaf_switch="qm9700"), catalog)
    assert f.scalable_units == su
    assert f.gpus == nodes * 8
    assert f.switches == {"leaf": leaf, "spine": spine, "core": core}
    assert f.links["node_leaf"] == links
    assert f.links["leaf_spine"] == links
    assert f.links["spine_core"] == (links if core else 0)
    assert f.tiers == (3 if core else 2)


# Same document family, DGX H100 RA-11333-001 V11 (2023-09-22), Table 4 "Compute fabric
# component count": one DGX of the fabric is removed for UFM, which takes 4 leaf ports;
# "Compute and UFM" cables therefore equal GPUs + 4. 3 SU has 16 spines, not 12.
@pytest.mark.parametrize(
    ("nodes", "leaf", "spine", "compute_and_ufm", "spine_leaf"),
    [(31, 8, 4, 252, 256), (63, 16, 8, 508, 512), (95, 24, 16, 764, 768), (127, 32, 16, 1020, 1024)],
)
def test_dgx_h100_superpod_table_4(catalog, nodes, leaf, spine, compute_and_ufm, spine_leaf):
    f = count_fabric(FabricSpec(servers=nodes, server="dgx-h100", leaf_switch="qm9700"), catalog)
    assert f.switches["leaf"] == leaf
    assert f.switches["spine"] == spine
    ufm_ports = 4  # the UFM appliance's leaf ports are not modelled
    assert f.links["node_leaf"] + ufm_ports == compute_and_ufm
    assert f.links["leaf_spine"] == spine_leaf


# NVIDIA SuperPOD with DGX B300, Quantum-X800 InfiniBand (RA, "Table 3 Example Compute
# Fabric Components"): SU = 72 DGX B300, Q3400 with 144 x 800G ports, one 800G link per
# GPU. Published spines at 4 and 8 SU are 18 and 36 (equal bundles), not ceil(links/144).
# The 18-SU row prints 9,216 GPUs but 1,296 nodes and 10,368 links: 10,368 is consistent.
@pytest.mark.parametrize(
    ("su", "leaf", "spine", "links"),
    [(1, 8, 4, 576), (2, 16, 8, 1152), (4, 32, 18, 2304), (8, 64, 36, 4608), (18, 144, 72, 10368)],
)
@pytest.mark.parametrize("optics", ["auto", "dsp", "lpo"])
def test_dgx_b300_quantum_x800_through_the_cli(capsys, catalog, su, leaf, spine, links, optics):
    """The whole fabric, optics included, as a user gets it from `planner fabric`. Each
    800G XDR link runs on 4 x 200G lanes (Quantum-X800 SerDes), so both ends of every link
    carry 4 lanes of 200G: a single-port 800G DR4 at the ConnectX-8 and half of a twin-port
    1.6T module in the switch cage (2 x 800G per cage), with 8 lit fibres a link."""
    code = main(["fabric", "--gpus", str(576 * su), "--server", "dgx-b300", "--switch", "q3400-ra",
                 "--optics", optics, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["tiers"] == 2 and doc["servers_per_su"] == 72
    assert doc["switches"] == {"leaf": leaf, "spine": spine, "core": 0}
    assert doc["links"]["node_leaf"] == links and doc["links"]["leaf_spine"] == links
    for tier in ("node_leaf", "leaf_spine"):
        media = doc["media"][tier]
        for end in ("lower", "upper"):
            o = catalog.optics[media[end]]
            assert o.lane_gbps == 200 and o.lanes == 4 * o.ports  # 4 x 200G per 800G link
        assert media["fibers"] == 8 * links  # parallel DR4: 2 fibres a lane
    # modules: a twin-port module per switch cage-pair of links, one per NIC port
    assert doc["transceivers"]["osfp-800g-dr4"] == links
    assert doc["transceivers"]["osfp-1600g-2xdr4"] == links // 2 + links  # leaf down, leaf up + spine
    assert doc["power_w"]["switches"] == pytest.approx((leaf + spine) * catalog.power("q3400-ra").watts)
    assert doc["power_figures"]["q3400-ra"]["kind"] == "estimate"


def test_quantum_x800_photonics_pairs_a_200g_lane_module_with_its_cpo_ports(capsys, catalog):
    """Q3450 (co-packaged, 4 x 200G lanes a port): the ConnectX-8 end must be 4 x 200G too,
    not an 8 x 100G DR8 (issue: the two ends used to disagree). An MPO-16 on the switch
    carries 8 lanes = two 800G links, so each breaks out to two MPO-12 of the DR4 modules."""
    code = main(["fabric", "--gpus", "576", "--server", "dgx-b300", "--switch", "q3450", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    nl = doc["media"]["node_leaf"]
    assert nl["lower"] == "osfp-800g-dr4" and nl["upper"] == "q3450"
    assert nl["cable"] == "smf-breakout-mpo-16-apc-to-2xmpo-12-apc"
    assert nl["cables"] == 576 // 2 and nl["fibers"] == 576 * 8
    assert doc["mpo_connectors"]["mpo-12-apc"] == 576
    # 576 down links on 8 leaves and 576 up: 1,152 links at the leaves, 576 at the spines,
    # 2 links per MPO-16: 864 front-panel connectors
    assert doc["mpo_connectors"]["mpo-16-apc"] == (576 + 576 + 576) // 2


@pytest.mark.parametrize(("args", "message"), [
    (["--switch", "q3450", "--optics", "800g-dr8"], "4 x 200G lanes"),
    (["--switch", "q3400-ra", "--optics", "cpo"], "co-packaged"),
    (["--switch", "q3400-ra", "--spine-switch", "sn5600"], "gearbox"),
])
def test_a_link_whose_ends_cannot_mate_is_refused(capsys, args, message):
    code = main(["fabric", "--gpus", "576", "--server", "dgx-b300", *args])
    _out, err = capsys.readouterr()
    assert code == 2
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(("args", "gpus", "switches", "links"), [
    # DGX H100 SuperPOD, Table 3: 4 SU, 32 leaf, 16 spine, 1,024 links a tier
    (["--server", "dgx-h100", "--switch", "qm9700"], 1024, {"leaf": 32, "spine": 16, "core": 0},
     {"node_leaf": 1024, "leaf_spine": 1024, "spine_core": 0}),
    # DGX B200 SuperPOD, larger configurations: 16 SU, 128 / 128 / 64, 4,096 links a tier
    (["--server", "dgx-b200", "--switch", "qm9700"], 4096, {"leaf": 128, "spine": 128, "core": 64},
     {"node_leaf": 4096, "leaf_spine": 4096, "spine_core": 4096}),
    # DGX B300 Spectrum-X, Table 3: 16 SU, 256 leaf, 128 spine, 8,192 800G cables a tier
    # (two 400G links each)
    (["--server", "dgx-b300", "--switch", "sn5600", "--planes", "2"], 8192, {"leaf": 256, "spine": 128, "core": 0},
     {"node_leaf": 16384, "leaf_spine": 16384, "spine_core": 0}),
])
def test_every_published_superpod_builds_through_the_cli(capsys, args, gpus, switches, links):
    code = main(["fabric", "--gpus", str(gpus), *args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["switches"] == switches
    assert doc["links"] == links
    assert doc["power_w"]["switches"] > 0 and doc["power_w"]["optics"] > 0


# NVIDIA SuperPOD DGX B300, Spectrum-4 Ethernet (RA, "Table 3 Larger DGX SuperPOD component
# counts"): twin-planar, "each GPU has 2x400GbE connectivity through two different planes",
# SU = 64 DGX B300. Switch counts cover both planes; the table's links are 800G cables, each
# carrying two 400G links (our reading, documented in docs/research-fabrics.md).
@pytest.mark.parametrize(
    ("su", "leaf", "spine", "cables"),
    [(1, 16, 8, 512), (2, 32, 16, 1024), (4, 64, 32, 2048), (8, 128, 64, 4096), (16, 256, 128, 8192)],
)
def test_dgx_b300_spectrum_two_planes(catalog, su, leaf, spine, cables):
    f = count_fabric(FabricSpec(servers=64 * su, server="dgx-b300", leaf_switch="sn5600", planes=2),
                     catalog)
    assert f.switches["leaf"] == leaf
    assert f.switches["spine"] == spine
    assert f.links["node_leaf"] == 2 * cables
    assert f.links["leaf_spine"] == 2 * cables
    assert f.shape.link_gbps == 400


def test_cpo_51t_switch_identity(catalog):
    """A 51.2 Tb/s CPO switch at 100G per lane: 512 lanes, 1,024 fibres, 64 MPO-16."""
    sw = catalog.switches["bailly-th5-cpo"]
    lanes = sw.ports * sw.lanes_per_port
    assert lanes * sw.lane_gbps == 51_200
    assert lanes == 512
    # a full two-tier fabric of 800G links: in two tiers a spine's 64 ports all face down
    f = count_fabric(FabricSpec(servers=64, server="dgx-b300", leaf_switch="bailly-th5-cpo"), catalog)
    tier = f.media["leaf_spine"]
    assert f.ports_free["spine"] == 0
    assert tier.upper.kind == "cpo" and tier.upper.connector == "mpo-16-apc"
    per_spine_connectors = tier.upper.connectors / f.switches["spine"]
    assert per_spine_connectors == 64
    per_spine_links = f.links["leaf_spine"] / f.switches["spine"]
    assert per_spine_links * tier.fibers_per_link == 1024
    assert per_spine_links * 800 / 100 == 512  # lanes


# Alibaba HPN (Qian et al., SIGCOMM 2024), read from the paper (docs/research-fabrics.md §5):
# hosts of 8 GPUs with 8 backend NICs of 2 x 200G; "the two ports of each NIC are connected
# to different ToRs" (dual-ToR) and the ToRs of each dual-ToR set sit in separate planes
# (dual-plane); a ToR is a 51.2 Tb/s single-chip switch with "128 active + 8 backup 200Gbps
# downstream ports and 60 upstream 400Gbps ports" (1.067:1); "16 ToRs collectively connect
# 1024 GPUs in a segment"; "60 Agg switches in each plane"; Aggregation-Core oversubscription
# 15:1; a Pod holds 15,360 GPUs in 2 tiers (Table 1).
# By hand: 15,360 GPUs = 1,920 hosts = 15 segments of 128; ToRs 15 x 16 = 240; Aggs 2 x 60
# = 120; GPU-ToR links 1,920 x 16 = 30,720 (200G); ToR-Agg links 240 x 60 = 14,400 (400G),
# one from each ToR to each Agg of its plane; an Agg (128 x 400G) takes 15 x 8 = 120 ToRs
# and keeps 128 / 16 = 8 ports for the core: 120 x 8 = 960 free; each ToR keeps its 8
# backup ports free: 240 x 8 = 1,920.
def test_alibaba_hpn_pod():
    from planner.network.fabric import count_topology
    from planner.parts.catalog import load_catalog

    from .conftest import DATA

    cat = load_catalog([DATA / "hpn_catalog"])
    spec = FabricSpec(servers=1920, server="alibaba-hpn-host", leaf_switch="arista-7060x6-64pe", planes=2,
                      dual_tor=True, uplink_gbps=400, servers_per_su=128, spare_down_ports=8,
                      spine_oversubscription=15)
    shape, switches, links, free = count_topology(spec, cat)
    assert shape.tiers == 2
    assert shape.scalable_units == 15 and shape.servers_per_su == 128
    assert shape.rails == 8 and shape.link_gbps == 200 and shape.up_gbps == 400
    assert switches == {"leaf": 240, "spine": 120, "core": 0}
    assert shape.spines_per_pod == 60 and shape.bundle_leaf_spine == 1
    assert links == {"node_leaf": 30_720, "leaf_spine": 14_400, "spine_core": 0}
    assert shape.up_per_leaf == 60
    ratio = shape.servers_per_su * shape.link_gbps / (shape.up_per_leaf * shape.up_gbps)
    assert ratio == pytest.approx(1.0667, abs=1e-4)  # the paper's "1.067:1"
    assert free == {"leaf": 240 * 8, "spine": 960, "core": 0}
    assert shape.systems * 8 == 15_360  # GPUs


def test_dual_tor_without_planes_keeps_both_tors_in_one_clos():
    """Dual-ToR alone: 16 ToRs per segment all reach the same Aggs (one plane)."""
    from planner.network.fabric import count_topology
    from planner.parts.catalog import load_catalog

    from .conftest import DATA

    cat = load_catalog([DATA / "hpn_catalog"])
    spec = FabricSpec(servers=128, server="alibaba-hpn-host", leaf_switch="arista-7060x6-64pe",
                      dual_tor=True, uplink_gbps=400, servers_per_su=128, spare_down_ports=8)
    shape, switches, links, _ = count_topology(spec, cat)
    assert shape.rails == 16 and shape.planes == 1
    assert switches["leaf"] == 16
    assert links["node_leaf"] == 128 * 16
    # 16 ToRs x 60 uplinks over Aggs of 128 x 400G: the fewest Aggs that divide 60 evenly
    # with 16 x bundle <= 128 are 10, in bundles of 6 (16 x 6 = 96 ports of each Agg)
    assert links["leaf_spine"] == 16 * 60
    assert switches["spine"] == 10 and shape.bundle_leaf_spine == 6


# The media of the HPN pod, by hand. The paper gives the ports (two 200G ports per backend
# NIC, each to a different ToR; 128 active + 8 backup 200G down ports and 60 x 400G up per
# ToR), says the fibres in a Pod's building are under 100 m "allowing for the use of
# lower-cost multi-mode optical transceivers" (§10) and evaluates on hosts with BlueField-3
# 2x200G DPUs (§9); it names no module. A 51.2T ToR runs a 200G port on 2 x 100G lanes.
# NVIDIA documents the multimode pairing for BlueField-3 at 200G: a 400G SR4 QSFP112 in each
# NIC port runs 2 of its 4 channels on the split leg of a 1:2 splitter fibre whose MPO-12
# end sits on one port of a twin-port 2xSR4 in the switch (4 x 200G a module). So:
#   NIC end: one module per 200G port            = 1,920 hosts x 8 NICs x 2 = 30,720
#   ToR end: 128 active ports / 4 a module = 32  x 240 ToRs                = 7,680
#   splitter cables: one per ToR MPO, 7,680 x 2                            = 15,360
#   fibres: 2 lanes x 2 fibres = 4 a link, x 30,720                        = 122,880
#   MPO-12/APC at node-leaf: 30,720 (NIC) + 15,360 (ToR)                   = 46,080
#   the 8 backup ports of each ToR hold no module: 240 x 8 free            = 1,920
# ToR-Agg (the paper names no module here either): 14,400 links of 400G, two a twin-port
# module at each end: 240 x 60 / 2 = 7,200 modules at the ToRs and 120 x 120 / 2 = 7,200 at
# the Aggs; one straight cable and 8 fibres a link; 2 MPO-12 a module.
HPN_ARGS = ["fabric", "--gpus", "15360", "--server", "alibaba-hpn-host", "--switch", "arista-7060x6-64pe",
            "--planes", "2", "--dual-tor", "--uplink-gbps", "400", "--segment-servers", "128",
            "--spare-down-ports", "8", "--spine-oversubscription", "15", "--json"]


def test_the_hpn_design_builds_through_the_cli(capsys):
    """Counts and media of the HPN pod through ``planner fabric``, derived by hand above."""
    from .conftest import DATA

    code = main([*HPN_ARGS, "--catalog", str(DATA / "hpn_catalog")])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["switches"] == {"leaf": 240, "spine": 120, "core": 0}
    assert doc["links"] == {"node_leaf": 30_720, "leaf_spine": 14_400, "spine_core": 0}
    assert doc["ports_free"] == {"leaf": 1_920, "spine": 960, "core": 0}
    nl, ls = doc["media"]["node_leaf"], doc["media"]["leaf_spine"]
    # node-leaf: multimode, as the paper says; a 1:2 breakout from each ToR MPO
    assert nl["optic_class"] == "sr"
    assert (nl["lower"], nl["upper"]) == ("qsfp112-400g-sr4-200g", "osfp-800g-2xsr4-4x200g")
    assert nl["cable"] == "mmf-breakout-mpo-12-apc-to-2xmpo-12-apc"
    assert nl["cables"] == 15_360 and nl["fibers"] == 122_880
    assert ls["cables"] == 14_400 and ls["fibers"] == 14_400 * 8
    t = doc["transceivers"]
    assert t["qsfp112-400g-sr4-200g"] == 30_720
    assert t["osfp-800g-2xsr4-4x200g"] == 7_680
    assert t[ls["lower"]] == 7_200 + 7_200 and ls["lower"] == ls["upper"]
    assert doc["mpo_connectors"] == {"mpo-12-apc": 30_720 + 15_360 + 2 * 14_400}
    assert doc["fibers"] == 122_880 + 14_400 * 8
    # power: 5 W (NVIDIA, 200G mode) a NIC module, 15 W a twin-port 2xSR4, the uplink
    # modules at their catalog figure
    assert doc["power_figures"]["qsfp112-400g-sr4-200g"]["watts"] == 5.0
    assert doc["power_figures"]["osfp-800g-2xsr4-4x200g"]["watts"] == 15.0
    assert doc["power_w"]["optics"] == pytest.approx(
        30_720 * 5.0 + 7_680 * 15.0 + 14_400 * doc["power_figures"][ls["lower"]]["watts"])
