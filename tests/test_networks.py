"""Access networks (mining, out-of-band) and the storage fabric, counted by hand."""

from __future__ import annotations

import pytest

from planner.errors import InputError
from planner.network.access import access_network, miner_endpoints, oob_endpoints
from planner.network.fabric import FabricSpec, count_fabric
from planner.parts.catalog import load_catalog

from .conftest import SITES


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


# ------------------------------------------------------------- the access switch is the catalog's

_ACCESS_24 = ('[[switch]]\nkey = "acc-24"\nvendor = "x"\nmodel = "x"\nsource = "a test"\nas_of = 2026-01-01\n'
              'ports = 24\nport_gbps = 1\nuplink_ports = 2\nuplink_gbps = 100\nmax_power_w = 60\n')
_ROLE = ('[[role]]\nkey = "access-switch"\npart = "{part}"\nsource = "a test"\nas_of = 2026-01-01\n')


def test_an_overlay_names_another_access_switch(tmp_path):
    """An overlay's 24-port, 60 W access switch takes over: one miner port is 60 / 24 = 2.5 W
    of it, and 100 out-of-band ports need ceil(100 / 24) = 5 of them."""
    from planner.network.access import miner_network_w

    (tmp_path / "switches.toml").write_text(_ACCESS_24, encoding="utf-8")
    (tmp_path / "roles.toml").write_text(_ROLE.format(part="acc-24"), encoding="utf-8")
    catalog = load_catalog([tmp_path])
    assert catalog.access_switch == "acc-24"
    assert miner_network_w(catalog, "antminer-s19") == pytest.approx(2.5)  # the S19 has one network port
    assert access_network(catalog, "oob", 100, catalog.access_switch).access_switches == 5


def test_a_role_naming_an_unknown_part_names_its_file_and_line(tmp_path):
    (tmp_path / "roles.toml").write_text("# a comment\n" + _ROLE.format(part="sn2210"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_catalog([tmp_path])
    text = str(info.value)
    assert "roles.toml:4: access-switch.part: unknown switch 'sn2210'" in text
    assert "did you mean 'sn2201'?" in text


def test_a_catalog_that_names_no_access_switch_is_refused(tmp_path):
    """A plan counts its out-of-band network with the access switch; without one it stops with
    a problem naming the role, never a KeyError."""
    from planner.model.inputs import prepare
    from planner.parts.models import MissingRole
    from planner.site.load import load_site

    catalog = load_catalog()
    del catalog.entries["roles"]["access-switch"]
    with pytest.raises(MissingRole):
        _ = catalog.access_switch
    with pytest.raises(InputError) as info:
        prepare(load_site(SITES / "sichuan-hydro.toml"), catalog, "retrofit")
    assert "access-switch: no catalog names the part for the role 'access-switch'" in str(info.value)
