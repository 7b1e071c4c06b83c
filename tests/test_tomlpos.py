"""Line numbers for keys, used in every error message."""

from planner.tomlpos import key_lines, line_of

TEXT = """\
schema = 1
[grid]
capacity_mw = 3  # MW
[[buildings]]
name = "a"
[buildings.cooling]
kind = "air"
[[buildings]]
polygon = [
  [0, 0],
  [1, 1],
]
pue = 1.2
"quoted key" = 1
"""


def test_key_lines():
    lines = key_lines(TEXT)
    assert lines[("grid", "capacity_mw")] == 3
    assert lines[("buildings", 0, "name")] == 5
    assert lines[("buildings", 0, "cooling", "kind")] == 7
    assert lines[("buildings", 1, "polygon")] == 9
    assert lines[("buildings", 1, "pue")] == 13
    assert lines[("buildings", 1, "quoted key")] == 14


def test_line_of_falls_back_to_parent():
    lines = key_lines(TEXT)
    assert line_of(lines, ("buildings", 1, "polygon", 0, 1)) == 9
    assert line_of(lines, ("grid", "missing")) == 2
    assert line_of(lines, ("nothing",)) is None
