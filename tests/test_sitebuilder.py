"""The tests' site builder: what it writes is a valid site, and an edit of a key the site
does not have is refused (a silent no-op would leave a test checking the unedited site)."""

from __future__ import annotations

import tomllib

import pytest

from planner.site.text import validate_text

from .conftest import SITES
from .sitebuilder import ONE_YEAR, S19_XP, edit, flat, site


def test_a_built_site_validates_and_holds_what_was_asked(tmp_path, catalog):
    text = site("built", capacity_mw=2.0, price=flat(45.0), miners=[{"model": S19_XP, "count": 10}],
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "max_gpus": 0, "lease_usd_per_gpu_hour": 2.0},
                economics=ONE_YEAR, scenarios={"hybrid": {"kind": "hybrid"}},
                buildings=[{"name": "h", "polygon": [[0, 0], [10, 0], [10, 5], [0, 5]], "max_kw_per_rack": 40,
                            "conversion": {"cooling": "direct-liquid", "max_kw_per_rack": 132, "usd_per_mw": 1e6}}])
    _loaded, problems = validate_text(text, tmp_path / "built.toml", catalog)
    assert not problems, problems
    data = tomllib.loads(text)
    assert data["grid"]["capacity_mw"] == 2.0 and data["power_price"] == {"kind": "flat", "usd_per_mwh": 45.0}
    assert data["fleet"]["miners"] == [{"model": S19_XP, "count": 10}]
    assert data["buildings"][0]["conversion"]["max_kw_per_rack"] == 132
    assert "conversion = {" in text  # inline, as the example sites write it


def test_edit_changes_keys_keeps_comments_and_refuses_keys_the_site_lacks():
    path = SITES / "xinjiang-mine.toml"
    text = edit(path, {"fleet.miners[0].count": 5, "grid.capacity_mw": 80.0}, add={"grid.power_factor": 0.9})
    data = tomllib.loads(text)
    assert data["fleet"]["miners"][0]["count"] == 5 and data["grid"]["capacity_mw"] == 80.0
    assert data["grid"]["power_factor"] == 0.9
    assert path.read_text().splitlines()[0] in text  # the comments stay
    with pytest.raises(KeyError, match=r"grid\.capacity_kw"):
        edit(path, {"grid.capacity_kw": 1.0})
    with pytest.raises(KeyError, match="nowhere"):
        edit(path, remove=["nowhere.key"])
