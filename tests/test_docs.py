"""The docs are part of the contract (as in datasette's tests): they must match the code."""

import re
from pathlib import Path

from ita_dashboard.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
CLI_DOC = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")


def _subcommands():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices


def test_readme_starts_with_the_two_setup_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["bash scripts/run.sh", "bash scripts/test.sh"]
    assert README.index("```bash") < 40  # at the very top
    for script in ("scripts/run.sh", "scripts/test.sh"):
        assert (REPO / script).is_file()


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    runs = [line.strip() for line in ci.splitlines() if line.strip().startswith("bash scripts/")]
    assert runs == ["bash scripts/test.sh"]


def test_every_command_and_flag_is_documented():
    for name, sub in _subcommands().items():
        assert f"## {name}" in CLI_DOC, name
        assert f"python -m ita_dashboard {name}" in README, name
        for action in sub._actions:
            for flag in action.option_strings:
                if flag in ("-h", "--help") or action.help == "==SUPPRESS==":
                    continue
                assert flag in CLI_DOC, f"{name} {flag} missing from docs/cli.md"


def test_every_dependency_is_explained():
    names = [re.split(r"[<>=\[ ]", line)[0] for line in (REPO / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    for name in names:
        assert name.split("[")[0] in README, f"README does not say why {name} is there"


def test_test_modules_have_unique_basenames():
    """pytest's default import mode imports each test file by its basename, so two test files
    with one name in different folders stop the whole suite at collection (CI broke on
    tests/test_oit.py and tests/e2e/test_oit.py while split runs passed)."""
    seen = {}
    for path in sorted((REPO / "tests").rglob("*.py")):
        if path.name in ("conftest.py", "__init__.py"):
            continue
        seen.setdefault(path.name, []).append(str(path.relative_to(REPO)))
    assert {n: p for n, p in seen.items() if len(p) > 1} == {}
