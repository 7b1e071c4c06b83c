"""Published fabrics reproduced. Expected numbers are read from the publications (see
docs/research-fabrics.md for the tables and where each was read), never from the code."""

from __future__ import annotations

import pytest

from planner.fabric import FabricSpec, count_fabric, plan_shape


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
def test_dgx_b300_quantum_x800(catalog, su, leaf, spine, links):
    # Q3400 optics (1.6T twin-port) are not in the catalog: the shape alone is compared.
    shape = plan_shape(FabricSpec(servers=72 * su, server="dgx-b300", leaf_switch="q3400-ra"), catalog)
    assert shape.tiers == 2
    assert shape.servers_per_su == 72
    assert shape.leaves == leaf
    assert shape.spines_per_pod == spine
    assert shape.servers * shape.rails == links
    assert shape.leaves * shape.up_per_leaf == links


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
