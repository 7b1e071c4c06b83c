"""report.html as a reader gets it: its content against the same solve's files, nothing
loaded from a network, and the page opened in a real headless browser (a screenshot that
is not blank, no console error). .ci/run installs Debian's chromium for the browser tests."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from .conftest import SITES

SITE = SITES / "texas-hybrid.toml"
BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no chromium on this machine (.ci/run installs it: "
                                                          "apt-get install chromium)")


@pytest.fixture(scope="module")
def solved(texas_outputs):
    return texas_outputs  # SITE solved once for the session (conftest)


class _Page(HTMLParser):
    """The page's tags and attributes, and the text of its recommendation line."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _page(out) -> _Page:
    page = _Page()
    page.feed((out / "report.html").read_text(encoding="utf-8"))
    return page


def test_report_loads_nothing_from_elsewhere(solved):
    text = (solved / "report.html").read_text(encoding="utf-8")
    page = _page(solved)
    names = {tag for tag, _ in page.tags}
    assert not names & {"script", "link", "iframe", "object", "embed"}
    for _tag, attrs in page.tags:
        for attr in ("src", "href", "srcset", "action", "poster"):
            if attr in attrs:
                assert attrs[attr].startswith("data:"), (attr, attrs[attr][:80])
    style = re.search(r"<style>(.*?)</style>", text, flags=re.S).group(1)
    assert "url(" not in style and "@import" not in style
    # the sources' addresses are plain text (cited), never in a tag's attribute
    bare = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"<[^>]*(https?:|//)[^>]*>", bare)


def test_report_says_the_recommendation_and_embeds_every_figure(solved):
    doc = json.loads((solved / "summary.json").read_text())
    page = _page(solved)
    words = " ".join(page.text)
    rec = doc["recommendation"]
    assert f"Recommendation: {rec['scenario']}" in words and rec["reason"] in words
    for sc in doc["scenarios"].values():
        for line in sc["binding_constraints"]:
            assert line in words
    images = [a["src"] for tag, a in page.tags if tag == "img"]
    pngs = sorted((solved / "plots").glob("*.png"))
    assert len(images) == len(pngs) >= 4
    embedded = {base64.b64decode(s.split(",", 1)[1]) for s in images}
    assert embedded == {p.read_bytes() for p in pngs}  # the run's own figures, byte for byte
    # the plans side by side: the NPV row in M USD as summary.json gives it in USD
    npv = f"{doc['scenarios'][rec['scenario']]['npv_usd'] / 1e6:,.6g}"
    assert npv in words
    # estimates are marked as such, with their basis (the QM9700's 747 W)
    assert "qm9700" in words and "747" in words and "ESTIMATE" in words


def _browse(tmp_path, page, *args):
    """Run headless chromium on a file; its stderr log (console messages at --v=0)."""
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'ud'}",
           "--enable-logging=stderr", "--v=0", *args, page.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


CONSOLE_ERRORS = re.compile(r"Uncaught|CONSOLE.*(?:error|Error)|Failed to load resource|net::ERR_")


@needs_browser
def test_the_console_check_sees_an_error(tmp_path):
    """The check below can fail: a page whose script throws is caught by it."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><p>x</p><script>throw new Error("boom")</script></body></html>')
    done = _browse(tmp_path, bad, "--dump-dom")
    assert CONSOLE_ERRORS.search(done.stderr), done.stderr[-2000:]


@needs_browser
def test_report_opens_in_a_headless_browser(tmp_path, solved):
    import numpy as np
    from PIL import Image

    doc = json.loads((solved / "summary.json").read_text())
    shot = tmp_path / "shot.png"
    done = _browse(tmp_path, solved / "report.html", f"--screenshot={shot}", "--window-size=1400,3000")
    assert not CONSOLE_ERRORS.search(done.stderr), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1400, 3000)
    pixels = np.asarray(image).reshape(-1, 3)
    inked = float((pixels.min(axis=1) < 200).mean())
    assert inked > 0.03, f"the page looks blank ({inked:.1%} inked)"
    # the figures drawn: many colours, not text alone (the plots' orange and blue fills)
    assert len(np.unique(np.asarray(image.resize((350, 750))).reshape(-1, 3), axis=0)) > 200
    dom = _browse(tmp_path, solved / "report.html", "--dump-dom")
    assert not CONSOLE_ERRORS.search(dom.stderr)
    assert f"Recommendation: {doc['recommendation']['scenario']}" in dom.stdout
    assert dom.stdout.count("<img") == len(list((solved / "plots").glob("*.png")))
