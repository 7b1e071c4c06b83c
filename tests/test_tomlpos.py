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


def test_insert_table_goes_after_its_kind_and_keeps_the_next_sections_comment():
    from planner.site.text import insert_table

    text = ('name = "x"\n\n[[buildings]]\nname = "a"\n[buildings.conversion]\nusd_per_mw = 1\n\n'
            '# routes between halls\n[[routes]]\nfrom = "a"\n')
    out = insert_table(text, "[[buildings]]", '[[buildings]]\nname = "b"\n')
    assert out == ('name = "x"\n\n[[buildings]]\nname = "a"\n[buildings.conversion]\nusd_per_mw = 1\n\n'
                   '[[buildings]]\nname = "b"\n\n# routes between halls\n[[routes]]\nfrom = "a"\n')
    assert insert_table('name = "x"\n', "[[routes]]", '[[routes]]\nfrom = "a"\n') == \
        'name = "x"\n\n[[routes]]\nfrom = "a"\n'


def test_a_quoted_key_with_escapes_is_found_as_toml_reads_it():
    """tomllib turns "a\\u0007b" into 'a\\x07b'; the line map must use the same key, or an
    error about it loses its line."""
    import tomllib

    text = '[scenarios."a\\u0007b"]\nkind = "hybrid"\n\n[x]\n"q\\"r" = 1\n'
    assert set(tomllib.loads(text)["scenarios"]) == {"a\x07b"}
    lines = key_lines(text)
    assert lines[("scenarios", "a\x07b", "kind")] == 2 and lines[("x", 'q"r')] == 5
