"""planner solve --netbox: the files NetBox's bulk import takes, checked against NetBox's
import forms as its source declares them, and against each other (every cable's devices
and interfaces exist, racks exist, rack positions do not collide)."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
import yaml

from planner.app.cli import main

from .conftest import SITES

# NetBox v4.6.8 (netbox-community/netbox, netbox/release.yaml version "4.6.8"), the Meta.fields
# of the import forms in netbox/dcim/forms/bulk_import.py and netbox/dcim/forms/object_import.py,
# copied by hand from that source
NETBOX_FORMS = {
    "sites.csv": ("name", "slug", "status", "region", "group", "tenant", "facility", "time_zone", "description",
                  "physical_address", "shipping_address", "latitude", "longitude", "owner", "comments", "tags"),
    "locations.csv": ("site", "parent", "name", "slug", "status", "tenant", "facility", "description", "owner",
                      "comments", "tags"),
    "racks.csv": ("site", "location", "group", "name", "facility_id", "tenant", "status", "role", "rack_type",
                  "form_factor", "serial", "asset_tag", "width", "u_height", "desc_units", "outer_width",
                  "outer_height", "outer_depth", "outer_unit", "mounting_depth", "airflow", "weight", "max_weight",
                  "weight_unit", "description", "owner", "comments", "tags"),
    "manufacturers.csv": ("name", "slug", "description", "owner", "comments", "tags"),
    "device-roles.csv": ("name", "slug", "parent", "color", "vm_role", "config_template", "description", "owner",
                         "comments", "tags"),
    "devices.csv": ("name", "role", "tenant", "manufacturer", "device_type", "platform", "serial", "asset_tag",
                    "status", "site", "location", "rack", "position", "face", "latitude", "longitude", "parent",
                    "device_bay", "airflow", "virtual_chassis", "vc_position", "vc_priority", "cluster",
                    "description", "config_template", "owner", "comments", "tags"),
    "cables.csv": ("side_a_site", "side_a_device", "side_a_power_panel", "side_a_type", "side_a_name",
                   "side_b_site", "side_b_device", "side_b_power_panel", "side_b_type", "side_b_name", "type",
                   "status", "profile", "tenant", "bundle", "label", "color", "length", "length_unit",
                   "description", "owner", "comments", "tags"),
}
# fields without required=False in those forms (or required by the model), and RackImportForm.clean's
# "width and u_height must be set if not specifying a rack type"
REQUIRED = {
    "sites.csv": {"name", "slug", "status"}, "locations.csv": {"site", "name", "slug", "status"},
    "racks.csv": {"site", "name", "status", "width", "u_height"}, "manufacturers.csv": {"name", "slug"},
    "device-roles.csv": {"name", "slug"},
    "devices.csv": {"role", "manufacturer", "device_type", "status", "site"},
    "cables.csv": {"side_a_type", "side_a_name", "side_b_type", "side_b_name"},
}
DEVICE_TYPE_FIELDS = {"manufacturer", "default_platform", "model", "slug", "part_number", "u_height",
                      "exclude_from_utilization", "is_full_depth", "subdevice_role", "airflow", "description",
                      "weight", "weight_unit", "owner", "comments", "tags"}
DEVICE_TYPE_RELATED = {"console-ports", "console-server-ports", "power-ports", "power-outlets", "interfaces",
                       "rear-ports", "front-ports", "port-mappings", "module-bays", "device-bays", "inventory-items"}
INTERFACE_TEMPLATE_FIELDS = {"device_type", "module_type", "name", "label", "type", "enabled", "mgmt_only",
                             "description", "poe_mode", "poe_type", "rf_role"}
# choice values of netbox/dcim/choices.py v4.6.8 (the ones a planned fabric can take)
STATUS = {"planned", "staging", "active", "decommissioning", "retired", "offline", "staged", "failed", "inventory",
          "connected", "reserved", "available", "deprecated"}
CABLE_TYPES = {"dac-active", "dac-passive", "mmf-om3", "mmf-om4", "mmf-om5", "smf-os1", "smf-os2", "aoc", "mmf",
               "smf"}
INTERFACE_TYPES = {"400gbase-x-osfp", "800gbase-x-osfp", "1.6tbase-x-osfp1600", "400gbase-x-qsfp112",
                   "200gbase-x-qsfp56", "100gbase-x-qsfp28", "100gbase-x-qsfpdd", "200gbase-x-qsfpdd",
                   "400gbase-x-qsfpdd", "800gbase-x-qsfpdd", "1.6tbase-x-qsfpdd1600", "other"}


# NetBox v4.6.8's import page with its format left on "Auto", its default (BulkImportForm in
# netbox/utilities/forms/bulk_import.py, read by hand): _detect_format reads JSON when the text
# starts with "{" or "[", YAML when it starts with "---" or "- ", CSV when its first line holds
# one of utilities/constants.py CSV_DELIMITERS, and refuses anything else ("Unable to detect
# data format"); _clean_csv then picks the delimiter with csv.Sniffer over those delimiters.
CSV_DELIMITERS = (",", ";", "|", "\t")


def netbox_detected_format(data: str) -> str:
    if data[:1] in ("{", "["):
        return "json"
    if data.startswith(("---", "- ")):
        return "yaml"
    if any(d in data.split("\n", 1)[0] for d in CSV_DELIMITERS):
        return "csv"
    return "refused"


def read(folder, name):
    return pd.read_csv(folder / name, keep_default_na=False, na_values=[""], low_memory=False)


@pytest.fixture(scope="module")
def campus(tmp_path_factory):
    out = tmp_path_factory.mktemp("campus")
    assert main(["solve", "-q", "--netbox", str(SITES / "greenfield-campus.toml"), "-o", str(out),
                 "--cables", "always"]) == 0
    return out


def check_import_set(folder, summary: dict, placed: bool) -> None:
    """The files NetBox v4.6.8 imports, checked against its forms and against each other."""
    tables = {name: read(folder, name) for name in NETBOX_FORMS}
    for name, frame in tables.items():
        assert set(frame.columns) <= set(NETBOX_FORMS[name]), name
        assert REQUIRED[name] <= set(frame.columns), name
        required = [c for c in REQUIRED[name] if len(frame)]
        assert not frame[required].isna().any().any(), name
        if "status" in frame:
            assert set(frame.status) <= STATUS
        # the models' lengths: descriptions 200 characters, names 100 (devices and interfaces 64)
        if "description" in frame:
            assert (frame.description.fillna("").str.len() <= 200).all(), name
        if "name" in frame:
            assert (frame.name.astype(str).str.len() <= (64 if name == "devices.csv" else 100)).all(), name
    # the import page on "Auto" takes each file as what it is (a real NetBox v4.6.8 refused
    # device-types.yaml until its documents opened with "---"; docs/netbox-import.md); the CSVs'
    # delimiter sniffed as a comma (on their first 500 rows: the sniffer is slow on whole files)
    for name in NETBOX_FORMS:
        text = (folder / name).read_text(encoding="utf-8")
        assert netbox_detected_format(text) == "csv", name
        head = "\n".join(text.strip().split("\n")[:501])
        assert csv.Sniffer().sniff(head, delimiters="".join(CSV_DELIMITERS)).delimiter == ",", name
    type_text = (folder / "device-types.yaml").read_text(encoding="utf-8")
    assert netbox_detected_format(type_text) == "yaml"
    types = list(yaml.safe_load_all(type_text))
    templates = {}
    for t in types:
        assert set(t) <= DEVICE_TYPE_FIELDS | DEVICE_TYPE_RELATED
        assert {"manufacturer", "model", "slug"} <= set(t)
        for i in t["interfaces"]:
            assert set(i) <= INTERFACE_TEMPLATE_FIELDS and i["type"] in INTERFACE_TYPES
        names = [i["name"] for i in t["interfaces"]]
        assert max(len(n) for n in names) <= 64 and len(t["model"]) <= 100
        assert len(names) == len(set(names))
        templates[(t["manufacturer"], t["model"])] = (set(names), float(t["u_height"]))
    devices, cables, racks = tables["devices.csv"], tables["cables.csv"], tables["racks.csv"]
    manufacturers = set(tables["manufacturers.csv"].name)
    assert {t["manufacturer"] for t in types} <= manufacturers
    assert set(devices.manufacturer) <= manufacturers
    assert set(devices.role) <= set(tables["device-roles.csv"].name)
    assert set(zip(devices.manufacturer, devices.device_type, strict=True)) <= set(templates)
    assert not devices.name.duplicated().any()
    site = tables["sites.csv"].name.iloc[0]
    assert (devices.site == site).all() and (cables.side_a_site == site).all()
    # closed form: one device per GPU server and per switch of the plan's summary
    assert (devices.role == "GPU server").sum() == summary["gpu_servers"]
    assert (devices.role != "GPU server").sum() == sum(summary["switches"].values())
    # every cable's devices and interfaces exist; no interface has two cables
    type_of = dict(zip(devices.name, zip(devices.manufacturer, devices.device_type, strict=True), strict=True))
    for side in ("a", "b"):
        assert (cables[f"side_{side}_type"] == "dcim.interface").all()
        assert cables[f"side_{side}_device"].isin(type_of).all()
        for device_type, group in cables.groupby(cables[f"side_{side}_device"].map(type_of)):
            assert set(group[f"side_{side}_name"]) <= templates[device_type][0]
    ends = pd.concat([cables[["side_a_device", "side_a_name"]].set_axis(["d", "n"], axis=1),
                      cables[["side_b_device", "side_b_name"]].set_axis(["d", "n"], axis=1)])
    assert not ends.duplicated().any()
    assert set(cables.type.dropna()) <= CABLE_TYPES
    # a type is left blank only on a wavelength over a route's dark fibre (NetBox's type is optional)
    assert cables[cables.type.isna()].description.fillna("").str.startswith("interconnect over routes[").all()
    assert not cables.label.duplicated().any()
    if not placed:
        assert racks.empty and devices.rack.isna().all() and cables.length.isna().all()
        return
    # a cable has its length; a wavelength over a route's dark fibre has none (its route's
    # length is in its description)
    far = cables.description.fillna("").str.startswith("interconnect over routes[")
    assert (cables.length[~far] > 0).all() and (cables.length_unit[~far] == "m").all()
    assert cables.length[far].isna().all() and cables.description[far].str.contains(" km").all()
    # racks exist in their locations; positions within the rack and not overlapping
    assert set(racks.location) <= set(tables["locations.csv"].name)
    rack_of = racks.set_index("name")
    assert not racks.name.duplicated().any()
    assert devices.rack.isin(rack_of.index).all()
    assert (devices.location == devices.rack.map(rack_of.location)).all()
    assert set(racks.width) == {19}
    placed_devices = devices[devices.position.notna()]
    assert len(placed_devices) > 0.9 * len(devices)
    for rack, group in placed_devices.groupby("rack"):
        used: set[int] = set()
        for _, d in group.iterrows():
            height = templates[(d.manufacturer, d.device_type)][1]
            units = set(range(int(d.position), int(d.position + height)))
            assert not units & used, (rack, d["name"])
            used |= units
        assert max(used) <= rack_of.u_height[rack]
    assert (placed_devices.face == "front").all()


def test_netbox_files_of_a_campus(campus):
    summary = json.loads((campus / "summary.json").read_text())
    folders = sorted((campus / "netbox").iterdir())
    assert [f.name for f in folders] == sorted(summary["scenarios"])
    for folder in folders:
        assert sorted(p.name for p in folder.iterdir()) == sorted([*NETBOX_FORMS, "device-types.yaml"])
        check_import_set(folder, summary["scenarios"][folder.name], placed=True)
        # the NetBox cables are the cable schedule's rows
        sched = read(campus, "cables.csv")
        assert len(read(folder, "cables.csv")) == (sched.scenario == folder.name).sum()


def test_netbox_without_halls_has_no_racks(tmp_path):
    assert main(["solve", "-q", "--netbox", str(SITES / "texas-hybrid.toml"), "-o", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    folders = sorted((tmp_path / "netbox").iterdir())
    assert folders
    for folder in folders:
        check_import_set(folder, summary["scenarios"][folder.name], placed=False)


def test_no_netbox_files_unless_asked(tmp_path):
    assert main(["solve", "-q", str(SITES / "texas-hybrid.toml"), "-o", str(tmp_path)]) == 0
    assert not (tmp_path / "netbox").exists()
    assert (tmp_path / "cables.csv").exists()


def load_import_script():
    import importlib.util

    path = SITES.parent / "scripts" / "netbox_import_check.py"
    spec = importlib.util.spec_from_file_location("netbox_import_check", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_import_script_reads_netbox_errors_and_locates_them():
    """scripts/netbox_import_check.py (run by hand against a NetBox; docs/netbox-import.md): the
    error markup is NetBox v4.6.8's templates/inc/toast.html (form errors: "Record N field: ..."
    counted from 1 within the request) and utilities/templates/form_helpers/render_field.html
    (a field's errors); a CSV chunk of rows 501-1000 starts at line 502 (line 1 is the header)."""
    script = load_import_script()
    page = """<div class="toast"><div class="toast-header text-bg-success">Saved</div>
      <div class="toast-body">Imported 3 sites</div></div>
    <div class="toast"><div class="toast-header text-bg-danger"><i></i> Error</div>
      <div class="toast-body">
        Record 3 side_a_name: A side termination not found: srv0 nic9
      </div></div>
    <div class="row mb-3 has-errors"><div class="form-text text-danger" id="id_format_errors" role="alert">
      Unable to detect data format. Please specify.</div></div>"""
    parser = script._Errors()
    parser.feed(page)
    assert parser.items == ["Record 3 side_a_name: A side termination not found: srv0 nic9",
                            "format: Unable to detect data format. Please specify."]
    chunks = script._csv_chunks("a,b\n" + "".join(f"{i},x\n" for i in range(1200)), 500)
    assert [(first, rows) for first, rows, _ in chunks] == [(2, 500), (502, 500), (1002, 200)]
    assert chunks[1][2].decode().split("\n")[:2] == ["a,b", "500,x"]
    assert script._located(parser.items[0], 502) == "line 504 side_a_name: A side termination not found: srv0 nic9"


def test_qsfp_dd_ports_take_netboxs_qsfp_dd_type(tmp_path, catalog):
    """The metro campus's switches (the S9321-64E run at one 400G port a QSFP-DD cage, from
    its overlay) export every port as NetBox's "QSFP-DD (400GE)", 400gbase-x-qsfpdd (before,
    "other"); the count is the catalog's ports, and the set still imports as NetBox's forms
    declare it."""
    import yaml

    from planner.parts.catalog import load_catalog

    assert main(["solve", "-q", "--netbox", str(SITES / "metro-campus.toml"), "-o", str(tmp_path)]) == 0
    switch = load_catalog([SITES / "overlays" / "s9321-64e-400g"]).switches["s9321-64e-400g"]
    assert (switch.cage_type, switch.port_gbps, switch.ports) == ("QSFP-DD", 400, 64)
    summary = json.loads((tmp_path / "summary.json").read_text())
    for folder in sorted((tmp_path / "netbox").iterdir()):
        check_import_set(folder, summary["scenarios"][folder.name], placed=True)
        types = [t for doc in yaml.safe_load_all((folder / "device-types.yaml").read_text())
                 for t in (doc if isinstance(doc, list) else [doc])]
        switches = [t for t in types if t["part_number"] == "s9321-64e-400g"]
        assert {t["model"].rsplit(" as ", 1)[1] for t in switches} == {"leaf", "spine"}
        for t in switches:
            assert [i["type"] for i in t["interfaces"]] == ["400gbase-x-qsfpdd"] * switch.ports
