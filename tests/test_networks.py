"""Access networks (mining, out-of-band) and the storage fabric, counted by hand."""

from __future__ import annotations

import pytest

from planner.network.access import access_network, miner_endpoints, oob_endpoints
from planner.network.fabric import FabricSpec, count_fabric


def test_mining_access_network_for_40000_miners(catalog):
    # 40,000 miners, one port each, on 48-port SN2201 (4 x 100G uplinks, 2 used):
    # ceil(40,000 / 48) = 834 access switches (834 x 48 = 40,032: 32 ports free);
    # 1,668 uplinks at 100G; an SN5600 breaks out to 256 x 100G: ceil(1,668 / 256) = 7.
    n = access_network(catalog, "mining", 40_000, "sn2201", "sn5600", uplinks=2)
    assert n.access_switches == 834
    assert n.access_ports_free == 32
    assert n.uplinks == 1668
    assert n.aggregation_switches == 7
    assert n.aggregation_ports_free == 7 * 256 - 1668


def test_without_an_aggregation_model_uplinks_are_counted(catalog):
    n = access_network(catalog, "oob", 100, "sn2201")
    assert n.access_switches == 3 and n.uplinks == 6 and n.aggregation_switches == 0


def test_small_network_needs_no_aggregation(catalog):
    n = access_network(catalog, "mining", 40, "sn2201")
    assert n.access_switches == 1 and n.aggregation_switches == 0 and n.uplinks == 0


def test_endpoint_counts(catalog):
    assert miner_endpoints(catalog, {"antminer-s19": 100, "antminer-s21": 20}) == 120
    # DGX H100: one BMC port (user guide); 127 systems + 48 fabric switches
    assert oob_endpoints(catalog, "dgx-h100", 127, 48) == 127 + 48


def test_storage_fabric_uses_the_storage_ports(catalog):
    # DGX H100 storage/in-band: 2 dual-port 400G NICs = 4 ports per system. On SN5600
    # at 400G (128 ports: 64 down, 64 up), 64 systems fill one group of 4 leaves.
    f = count_fabric(FabricSpec(servers=64, server="dgx-h100", leaf_switch="sn5600",
                                network="storage"), catalog)
    assert f.shape.rails == 4
    assert f.links["node_leaf"] == 64 * 4
    assert f.switches["leaf"] == 4


def test_access_switch_without_uplinks_is_an_error(catalog):
    from planner.network.fabric import FabricError

    with pytest.raises(FabricError, match="no uplink ports"):
        access_network(catalog, "x", 100, "qm9700")
