"""Import one scenario's NetBox files (``planner solve SITE --netbox``: OUT/netbox/SCENARIO/)
into a running NetBox through its own bulk-import pages, the path a user takes in the web UI
(Import -> Upload File), then count what NetBox holds against the files.

NetBox is not on PyPI nor in Debian, so CI cannot start one: this script is run by hand
against a NetBox you have (written and checked against NetBox v4.6.8; see
docs/netbox-import.md). It needs only the Python standard library and the planner.

Each file is posted to NetBox's import page (``/dcim/<objects>/import/``) as an uploaded
file, CSV files in chunks of ``--chunk`` rows (NetBox imports a request in one database
transaction and stops at its first bad record); the device-type YAML in one request. A
manufacturer, device role or device type whose slug NetBox already has is left out and
reused (a NetBox that already knows NVIDIA keeps its entry). The first error stops the run:
NetBox's message is printed with the file and line it concerns, and the exit code is 1.
Afterwards the site's locations, racks, devices, interfaces and cables are counted through
the REST API (session login) and compared with the files: exit 0 when every count matches.

Run::

    NETBOX_PASSWORD=... python scripts/netbox_import_check.py out/SITE/netbox/SCENARIO \\
        --url http://localhost:8000 --user admin
"""

from __future__ import annotations

import argparse
import csv
import getpass
import html.parser
import http.cookiejar
import io
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml

from planner.outputs.netbox import IMPORT_ORDER

# file -> NetBox's import page and REST endpoint (netbox/dcim/urls.py, v4.6.8)
PAGES = {
    "sites.csv": "sites", "locations.csv": "locations", "racks.csv": "racks", "manufacturers.csv": "manufacturers",
    "device-types.yaml": "device-types", "device-roles.csv": "device-roles", "devices.csv": "devices",
    "cables.csv": "cables",
}
SHARED = {"manufacturers.csv", "device-types.yaml", "device-roles.csv"}  # may already be in a NetBox


class ImportFailed(Exception):
    """NetBox refused a request; the message says what and where."""


class _Errors(html.parser.HTMLParser):
    """The error messages of a NetBox v4.6.8 page: form errors shown as danger toasts
    (templates/inc/messages.html, inc/toast.html: ``<div class="toast-body">`` after a
    ``text-bg-danger`` header) and field errors under their field
    (utilities/templates/form_helpers/render_field.html: ``<div id="id_FIELD_errors">``)."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self.danger = False  # the last toast header was an error's
        self.capture: tuple[str, int] | None = None  # (prefix, div depth) while inside a message
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "div":
            return
        self.depth += 1
        a = dict(attrs)
        classes, ident = (a.get("class") or "").split(), a.get("id") or ""
        if "toast-header" in classes:
            self.danger = "text-bg-danger" in classes
        elif self.capture is None and "toast-body" in classes and self.danger:
            self.capture, self.text = ("", self.depth), []
        elif self.capture is None and ident.startswith("id_") and ident.endswith("_errors"):
            self.capture, self.text = (ident[3:-7] + ": ", self.depth), []

    def handle_endtag(self, tag: str) -> None:
        if tag != "div":
            return
        if self.capture is not None and self.capture[1] == self.depth:
            self.items.append(self.capture[0] + " ".join("".join(self.text).split()))
            self.capture = None
        self.depth -= 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and self.capture is not None:
            self.text.append("; ")

    def handle_data(self, data: str) -> None:
        if self.capture is not None:
            self.text.append(data)


class NetBox:
    """A logged-in web session on a NetBox (cookies and CSRF token as a browser keeps them)."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.url = url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self._open("/login/")
        page = self._open("/login/", {"username": user, "password": password, "next": "/"})
        if "/login/" in page.url:
            raise ImportFailed(f"{self.url}: login as {user!r} refused")

    def _csrf(self) -> str:
        return next((c.value or "" for c in self.jar if c.name == "csrftoken"), "")

    def _open(self, path: str, fields: dict[str, str] | None = None, upload: tuple[str, bytes] | None = None
              ) -> Any:
        headers = {"Referer": self.url + path}
        body = None
        if fields is not None:
            fields = {"csrfmiddlewaretoken": self._csrf(), **fields}
            if upload is None:
                body = urllib.parse.urlencode(fields).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                body, headers["Content-Type"] = _multipart(fields, "upload_file", *upload)
        request = urllib.request.Request(self.url + path, data=body, headers=headers)
        try:
            return self.opener.open(request, timeout=3600)
        except urllib.error.HTTPError as e:
            raise ImportFailed(f"{self.url}{path}: HTTP {e.code} {e.reason}") from e

    def api(self, path: str, **query: str) -> dict[str, Any]:
        """A REST API answer (the session's login authenticates it)."""
        page = self._open(f"/api/{path}?{urllib.parse.urlencode({**query, 'limit': '1', 'brief': '1'})}")
        answer: dict[str, Any] = json.load(page)
        return answer

    def count(self, path: str, **query: str) -> int:
        return int(self.api(path, **query)["count"])

    def post_import(self, objects: str, name: str, data: bytes, fmt: str = "auto") -> None:
        """Post one file to the import page as the UI's upload form does (format and CSV delimiter
        detected by NetBox unless ``fmt`` names one); raise with NetBox's errors unless it imported."""
        path = f"/dcim/{objects}/import/"
        fields = {"import_method": "upload", "format": fmt, "csv_delimiter": "auto"}
        page = self._open(path, fields, upload=(name, data))
        text = page.read().decode("utf-8", "replace")
        if urllib.parse.urlparse(page.url).path == path:  # the form came back: NetBox refused it
            parser = _Errors()
            parser.feed(text)
            raise ImportFailed("\n".join(dict.fromkeys(parser.items)) or f"{path}: refused without a message")


def _multipart(fields: dict[str, str], file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for key, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
              "Content-Type: application/octet-stream\r\n\r\n".encode())
    out.write(data + f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def _csv_chunks(text: str, size: int) -> list[tuple[int, int, bytes]]:
    """(first data line's number in the file, rows, chunk with the header) for every ``size``
    rows (records spanning lines are not expected: the planner writes none)."""
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    if 0 < len(body) <= size:
        return [(2, len(body), text.encode())]  # the file as it is
    chunks = []
    for start in range(0, len(body), size):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(body[start:start + size])
        chunks.append((start + 2, len(body[start:start + size]), buffer.getvalue().encode()))
    return chunks


def _located(message: str, first_line: int) -> str:
    """NetBox's "Record N ..." (1-based within the request) as the file's line number."""
    return re.sub(r"Record (\d+)", lambda m: f"line {first_line + int(m.group(1)) - 1}", message)


def _drop_known(netbox: NetBox, name: str, text: str) -> tuple[str, int]:
    """The file without the entries NetBox already has (by slug), and how many were left out;
    the file's own text when NetBox has none of them."""
    if name == "device-types.yaml":
        types = [t for t in yaml.safe_load_all(text) if t]
        new = [t for t in types if not netbox.count("dcim/device-types/", slug=t["slug"])]
        if len(new) == len(types):
            return text, 0
        return yaml.safe_dump_all(new, sort_keys=False, allow_unicode=True, explicit_start=True), len(types) - len(new)
    rows = list(csv.DictReader(io.StringIO(text)))
    new = [r for r in rows if not netbox.count(f"dcim/{PAGES[name]}/", slug=r["slug"])]
    if len(new) == len(rows):
        return text, 0
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(new)
    return buffer.getvalue(), len(rows) - len(new)


def import_folder(netbox: NetBox, folder: Path, chunk: int, detect: bool = True) -> None:
    """Import the folder's files in the planner's order; raise at NetBox's first error. With
    ``detect`` NetBox detects each file's format and CSV delimiter (the UI's default)."""
    for name in IMPORT_ORDER:
        args_format = "auto" if detect else name.rsplit(".", 1)[1]
        text = (folder / name).read_text(encoding="utf-8")
        known = 0
        if name in SHARED:
            text, known = _drop_known(netbox, name, text)
        started = time.perf_counter()
        if name.endswith(".yaml"):
            imported = sum(1 for t in yaml.safe_load_all(text) if t)
            if imported:
                try:
                    netbox.post_import(PAGES[name], name, text.encode(), args_format)
                except ImportFailed as e:
                    raise ImportFailed(f"{folder / name}: {e}") from None
        else:
            imported = 0
            for first_line, rows, data in _csv_chunks(text, chunk):
                try:
                    netbox.post_import(PAGES[name], name, data, args_format)
                except ImportFailed as e:
                    raise ImportFailed(f"{folder / name}: {_located(str(e), first_line)}") from None
                imported += rows
        seconds = time.perf_counter() - started
        print(f"{name:20} {imported:8d} imported, {known} already in NetBox  {seconds:7.1f} s", file=sys.stderr)


def expected_counts(folder: Path) -> dict[str, int]:
    """What NetBox should hold for the site: rows of the files; interfaces = the interface
    templates of each device's type, one set per device (NetBox copies them when it creates the
    device: dcim.models.Device.save -> _instantiate_components)."""
    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO((folder / name).read_text(encoding="utf-8"))))

    types = {(t["manufacturer"], t["model"]): len(t.get("interfaces", []))
             for t in yaml.safe_load_all((folder / "device-types.yaml").read_text(encoding="utf-8")) if t}
    devices = rows("devices.csv")
    return {"locations": len(rows("locations.csv")), "racks": len(rows("racks.csv")), "devices": len(devices),
            "interfaces": sum(types[(d["manufacturer"], d["device_type"])] for d in devices),
            "cables": len(rows("cables.csv"))}


def netbox_counts(netbox: NetBox, site_slug: str) -> dict[str, int]:
    site = netbox.api("dcim/sites/", slug=site_slug)["results"]
    if not site:
        raise ImportFailed(f"NetBox has no site with slug {site_slug!r}")
    site_id = str(site[0]["id"])
    return {"locations": netbox.count("dcim/locations/", site_id=site_id),
            "racks": netbox.count("dcim/racks/", site_id=site_id),
            "devices": netbox.count("dcim/devices/", site_id=site_id),
            "interfaces": netbox.count("dcim/interfaces/", site_id=site_id),
            "cables": netbox.count("dcim/cables/", site_id=site_id)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="one scenario's folder: OUT/netbox/SCENARIO")
    parser.add_argument("--url", default="http://localhost:8000", help="NetBox's address (default: %(default)s)")
    parser.add_argument("--user", default="admin", help="a NetBox user allowed to add DCIM objects "
                        "(default: %(default)s); password from NETBOX_PASSWORD or asked")
    parser.add_argument("--chunk", type=int, default=500, help="CSV rows per request (default: %(default)s)")
    parser.add_argument("--name-format", action="store_true",
                        help="tell NetBox each file's format (csv, yaml) instead of letting it detect it")
    parser.add_argument("--count-only", action="store_true", help="import nothing; only compare the counts")
    args = parser.parse_args(argv)
    missing = [n for n in IMPORT_ORDER if not (args.folder / n).is_file()]
    if missing:
        print(f"{args.folder}: not a planner NetBox folder (missing {', '.join(missing)})", file=sys.stderr)
        return 2
    password = os.environ.get("NETBOX_PASSWORD") or getpass.getpass(f"NetBox password for {args.user}: ")
    try:
        netbox = NetBox(args.url, args.user, password)
        if not args.count_only:
            import_folder(netbox, args.folder, args.chunk, detect=not args.name_format)
        site_slug = next(csv.DictReader(io.StringIO((args.folder / "sites.csv").read_text(encoding="utf-8"))))["slug"]
        got, want = netbox_counts(netbox, site_slug), expected_counts(args.folder)
    except (ImportFailed, urllib.error.URLError) as e:
        print(f"netbox import failed: {e}", file=sys.stderr)
        return 1
    print(f"{'':12}{'files':>10}{'NetBox':>10}")
    for key in want:
        print(f"{key:12}{want[key]:10d}{got[key]:10d}{'' if want[key] == got[key] else '  MISMATCH'}")
    return 0 if got == want else 1


if __name__ == "__main__":
    sys.exit(main())
