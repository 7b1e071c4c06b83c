"""NetBox bulk-import files of a solved plan: sites, locations (the halls), racks,
manufacturers, device types with their interface templates, device roles, devices in
their racks and the cables with both terminations.

The CSV headers are the field names of NetBox's import forms, NetBox v4.6.8
(netbox/dcim/forms/bulk_import.py: SiteImportForm, LocationImportForm, RackImportForm,
ManufacturerImportForm, DeviceRoleImportForm, DeviceImportForm, CableImportForm). Device
types go in ``device-types.yaml``: NetBox imports interface templates only with their
device type (DeviceTypeImportView, related object ``interfaces`` read by
InterfaceTemplateImportForm; netbox/dcim/forms/object_import.py), in the format of the
community device-type library, several YAML documents in one file, each opened by ``---``
(the import page's "Auto" format reads a text as YAML only when it starts so). Choice values
(statuses, rack width, face, cable type, length unit, interface type) are NetBox's
(netbox/dcim/choices.py, the same version). Import them in the order of
:data:`IMPORT_ORDER`.

What the planner knows and NetBox is told:

* every object is "planned"; the site is the site file's name, each hall a location;
* a rack is 19 inch, as tall as its hall's ``rack_units``; devices stand in it from U1 up
  in the order of the fabric's nodes. A device whose catalog entry gives no height is
  placed in its rack without a position (NetBox allows it), never at an invented height;
* a switch's ports are the fabric's logical ports (``down0``, ``up3``: the numbering of
  :func:`planner.network.graph.fabric_edges`), so a switch model used as leaf and as
  spine is two device types (``<model> as leaf``), each with the ports its role uses;
* a cable per cable leg of cables.csv (NetBox's CSV import takes one termination a
  side): a breakout's legs are cables labelled ``C000123.1``, ``.2``; a link over
  structured cabling is one cable from port to port, its trunk named in the description
  (the patch panels, front and rear ports are not modelled).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.model.optimize import Result, Status
from planner.parts.catalog import Catalog

if TYPE_CHECKING:
    import pandas as pd

    from planner.network.fabric import FabricCounts
    from planner.network.layout import Layout

NETBOX_VERSION = "4.6.8"
# file -> the import form's fields this planner fills, in the form's order (NetBox v4.6.8)
COLUMNS = {
    "sites.csv": ["name", "slug", "status", "description", "comments"],
    "locations.csv": ["site", "name", "slug", "status", "description"],
    "racks.csv": ["site", "location", "name", "status", "width", "u_height", "description"],
    "manufacturers.csv": ["name", "slug"],
    "device-roles.csv": ["name", "slug", "color", "description"],
    "devices.csv": ["name", "role", "manufacturer", "device_type", "status", "site", "location", "rack",
                    "position", "face", "description"],
    "cables.csv": ["side_a_site", "side_a_device", "side_a_type", "side_a_name", "side_b_site", "side_b_device",
                   "side_b_type", "side_b_name", "type", "status", "label", "length", "length_unit", "description"],
}
IMPORT_ORDER = ("sites.csv", "locations.csv", "racks.csv", "manufacturers.csv", "device-types.yaml",
                "device-roles.csv", "devices.csv", "cables.csv")
ROLES = {"server": ("GPU server", "4caf50"), "leaf": ("Leaf switch", "2196f3"),
         "spine": ("Spine switch", "3f51b5"), "core": ("Core switch", "9c27b0")}
# cables.csv's medium -> NetBox CableTypeChoices
CABLE_TYPE = {"DAC": "dac-passive", "ACC": "dac-active", "AEC": "dac-active", "MMF": "mmf-om4", "SMF": "smf-os2",
              "MMF trunk": "mmf-om4", "SMF trunk": "smf-os2"}
# (Gb/s, cage) -> NetBox InterfaceTypeChoices (netbox/dcim/choices.py, v4.6.8: the pluggable
# transceivers' values); anything else is "other"
INTERFACE_TYPE = {(400.0, "OSFP"): "400gbase-x-osfp", (800.0, "OSFP"): "800gbase-x-osfp",
                  (1600.0, "OSFP"): "1.6tbase-x-osfp1600", (400.0, "QSFP112"): "400gbase-x-qsfp112",
                  (200.0, "QSFP56"): "200gbase-x-qsfp56", (100.0, "QSFP28"): "100gbase-x-qsfp28",
                  (100.0, "QSFP-DD"): "100gbase-x-qsfpdd", (200.0, "QSFP-DD"): "200gbase-x-qsfpdd",
                  (400.0, "QSFP-DD"): "400gbase-x-qsfpdd", (800.0, "QSFP-DD"): "800gbase-x-qsfpdd",
                  (1600.0, "QSFP-DD"): "1.6tbase-x-qsfpdd1600"}
RACK_WIDTH_IN = 19
DESCRIPTION_CHARS = 200  # NetBox's models: description = CharField(max_length=200); names of sites, 100
NAME_CHARS = 100


def slug(text: str) -> str:
    """A NetBox slug: lowercase letters, digits, hyphens and underscores."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "x"


def netbox_files(result: Result, catalog: Catalog, site_name: str, folder: str
                 ) -> dict[str, Callable[[Path], None]]:
    """Writers of the plan's NetBox files under ``folder`` (none without a cluster)."""
    if result.status is not Status.OPTIMAL or not result.chosen.servers or result.chosen.fabric is None:
        return {}

    @cache
    def tables() -> dict[str, Any]:
        return netbox_tables(result, catalog, site_name)

    def writer(name: str) -> Callable[[Path], None]:
        def write(path: Path) -> None:
            from planner.outputs.export import write_frame

            data = tables()[name]
            if name.endswith(".yaml"):
                path.write_text(data, encoding="utf-8")
            else:
                write_frame(path, data)
        return write

    return {f"{folder}/{name}": writer(name) for name in IMPORT_ORDER}


def netbox_tables(result: Result, catalog: Catalog, site_name: str) -> dict[str, Any]:
    """The files' contents: a DataFrame per CSV (columns of :data:`COLUMNS`) and the text of
    device-types.yaml."""
    import pandas as pd
    import yaml

    from planner.outputs.cables import cable_schedule
    from planner.outputs.physics import layout_for

    opt = result.chosen
    fab = opt.fabric
    assert fab is not None  # netbox_files asks only for plans with a cluster
    lay = layout_for(result, catalog)
    sched = cable_schedule(result, catalog)
    site = site_name[:NAME_CHARS]
    out: dict[str, Any] = {}
    out["sites.csv"] = pd.DataFrame([{
        "name": site, "slug": slug(site), "status": "planned",
        "description": f"planner scenario {result.inputs.scenario}",
        "comments": f"written by minegrid-planner for NetBox {NETBOX_VERSION} bulk import"}],
        columns=COLUMNS["sites.csv"])
    halls = sorted({r["building"] for r in lay.racks}) if lay is not None else []
    out["locations.csv"] = pd.DataFrame([{"site": site, "name": h, "slug": slug(h), "status": "planned",
                                          "description": "hall"} for h in halls], columns=COLUMNS["locations.csv"])
    rack_rows = []
    if lay is not None:
        for i, r in enumerate(lay.racks):
            rack_rows.append({"site": site, "location": r["building"], "name": f"R{i:05d}", "status": "planned",
                              "width": RACK_WIDTH_IN, "u_height": lay.halls[r["building"]].rack_units,
                              "description": f"{r['role']}: {r['contents']}"})
    out["racks.csv"] = pd.DataFrame(rack_rows, columns=COLUMNS["racks.csv"])
    types, device_type_of = _device_types(fab, catalog, sched)
    vendors = sorted({t["manufacturer"] for t in types})
    out["manufacturers.csv"] = pd.DataFrame([{"name": v, "slug": slug(v)} for v in vendors],
                                            columns=COLUMNS["manufacturers.csv"])
    # explicit_start: every document opens with "---", which NetBox's import page needs to tell
    # YAML from CSV when its format is left on "Auto" (BulkImportForm._detect_format)
    out["device-types.yaml"] = yaml.safe_dump_all(types, sort_keys=False, allow_unicode=True, explicit_start=True)
    out["device-roles.csv"] = pd.DataFrame([{"name": n, "slug": slug(n), "color": c, "description": f"fabric {k}"}
                                            for k, (n, c) in ROLES.items()], columns=COLUMNS["device-roles.csv"])
    out["devices.csv"] = _devices(fab, catalog, lay, site, device_type_of, types)
    out["cables.csv"] = _cables(sched, site)
    return out


def _kind(name: str) -> str:
    return "server" if name.startswith("srv") else name.split("/")[1].rstrip("0123456789.")


def _device_types(fab: FabricCounts, catalog: Catalog, sched: pd.DataFrame
                  ) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """Device types in the device-type library's format, with the interfaces the plan's
    devices of each type use, and {role kind: (manufacturer, model)}."""
    import pandas as pd

    ends = pd.concat([sched[["a_device", "a_port"]].set_axis(["device", "port"], axis=1),
                      sched[["b_device", "b_port"]].set_axis(["device", "port"], axis=1)], ignore_index=True)
    kinds = ends.device.map(_kind)
    shape = fab.shape
    types: list[dict[str, Any]] = []
    of: dict[str, tuple[str, str]] = {}
    server = catalog.servers[fab.spec.server]
    for kind in ("server", "leaf", "spine", "core"):
        ports = ends.port[kinds == kind].unique()
        if not len(ports):
            continue
        if kind == "server":
            vendor, model, part = server.vendor, server.model, server.key
            height = server.height_u if server.kind == "server" else None  # a rack system's endpoint is a tray
            cage = None
            if server.kind == "rack":
                model += " compute tray"
        else:
            sw = catalog.switches[fab.switch_models[kind]]
            vendor, model, part, height, cage = sw.vendor, f"{sw.model} as {kind}", sw.key, sw.height_u, sw.cage_type
        order = sorted(ports, key=lambda p: (re.sub(r"\d+", "", p), [int(x) for x in re.findall(r"\d+", p)]))
        interfaces = []
        for p in order:
            gbps = shape.link_gbps if (kind == "server" or (kind == "leaf" and p.startswith("down"))) \
                else shape.up_gbps
            interfaces.append({"name": p, "type": INTERFACE_TYPE.get((float(gbps), (cage or "").upper()), "other"),
                               "description": f"{gbps:g}G fabric port"})
        entry: dict[str, Any] = {"manufacturer": vendor, "model": model, "slug": slug(f"{part}-{kind}"),
                                 "part_number": part, "u_height": float(height) if height else 0,
                                 "is_full_depth": True,
                                 "comments": f"minegrid-planner catalog part {part}"
                                 + ("" if height else "; height not in the catalog: no rack position")}
        entry["interfaces"] = interfaces
        types.append(entry)
        of[kind] = (vendor, model)
    return types, of


def _devices(fab: FabricCounts, catalog: Catalog, lay: Layout | None, site: str,
             device_type_of: dict[str, tuple[str, str]], types: list[dict[str, Any]]) -> pd.DataFrame:
    """Every fabric node as a device, stacked in its rack from U1 up (no position where the
    height is unknown or the rack is full)."""
    import pandas as pd

    from planner.network.graph import fabric_nodes, node_rack

    height = {(t["manufacturer"], t["model"]): float(t["u_height"]) for t in types}
    rows = []
    next_u: dict[int, float] = {}
    for name, data in fabric_nodes(fab.spec, fab):
        kind = data["kind"]
        vendor, model = device_type_of[kind]
        row: dict[str, Any] = {"name": name, "role": ROLES[kind][0], "manufacturer": vendor, "device_type": model,
                               "status": "planned", "site": site, "location": None, "rack": None, "position": None,
                               "face": None, "description": data.get("model", "")}
        if lay is not None:
            rack = node_rack(name, data, lay)
            r = lay.racks[rack]
            row.update(location=r["building"], rack=f"R{rack:05d}")
            h = height[(vendor, model)]
            at = next_u.get(rack, 1.0)
            if h and at + h - 1 <= lay.halls[r["building"]].rack_units:
                row.update(position=at, face="front")
                next_u[rack] = at + h
        rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS["devices.csv"])
    frame["position"] = pd.array(frame["position"].to_numpy(dtype=float), dtype="Float64")
    return frame


def _cables(sched: pd.DataFrame, site: str) -> pd.DataFrame:
    """A NetBox cable per cable leg of the schedule, interface to interface."""
    import pandas as pd

    # a link across a route beyond grey reach rides the route's interconnect: no cable of the tier
    # (no type, no length), its description names the route and the module at each end
    far = (sched.medium == "interconnect").to_numpy()
    length = sched.length_ordered_m.where(sched.length_ordered_m.notna(), sched.length_m).mask(far)
    trunk = sched.trunk.fillna("").astype(str)
    text = np.where(far, sched.route.astype(str),
                    np.where(trunk != "", "over structured cabling: " + sched.route.astype(str),
                             sched.part.astype(str) + " " + sched.tier.astype(str)))
    description = pd.Series(text).str.slice(0, DESCRIPTION_CHARS)
    return pd.DataFrame({
        "side_a_site": site, "side_a_device": sched.a_device, "side_a_type": "dcim.interface",
        "side_a_name": sched.a_port, "side_b_site": site, "side_b_device": sched.b_device,
        "side_b_type": "dcim.interface", "side_b_name": sched.b_port, "type": sched.medium.map(CABLE_TYPE),
        "status": "planned", "label": sched.label, "length": length,
        "length_unit": np.where(length.notna(), "m", ""), "description": description,
    }, columns=COLUMNS["cables.csv"])
