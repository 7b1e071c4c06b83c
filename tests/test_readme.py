"""The README's Quick start is what CI runs."""

import re

from .conftest import ROOT


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", quick, flags=re.S)


def test_quick_start_has_exactly_two_commands():
    commands = _commands()
    assert len(commands) == 2
    assert "planner solve sites/" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_second_command_exactly():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _commands()[1] in ci


def test_example_site_of_the_quick_start_exists():
    site = re.search(r"planner solve (sites/\S+\.toml)", _commands()[0]).group(1)
    assert (ROOT / site).is_file()
