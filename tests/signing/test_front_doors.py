"""The import contracts catch what they promise to: a room's internal module imported from
another room, and production code importing the development room."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin import PROJECT_ROOT

ROOMS = ("validation", "signing", "archive", "mailgw", "exchange")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the rooms and their contracts, to break on purpose."""
    for room in ROOMS:
        shutil.copytree(
            PROJECT_ROOT / room, tmp_path / room, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _broken(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The names of the broken contracts, from the report's summary (long names wrap)."""
    summary = result.stdout.split("Contracts: ", 1)[0].rsplit("-------\n", 1)[-1]
    verdicts = re.split(r" (KEPT|BROKEN)(?: \(\d+ ignored imports?\))?\n", summary)
    names = [" ".join(part.split()) for part in verdicts[0::2]]
    return [
        name for name, verdict in zip(names, verdicts[1::2], strict=False) if verdict == "BROKEN"
    ]


@pytest.mark.slow
def test_the_checkout_keeps_every_contract(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.slow
def test_an_internal_module_of_another_room_is_refused(tree: Path) -> None:
    (tree / "exchange" / "sneaky.py").write_text(
        "from signing.keys import InMemoryKey\nfrom validation.pdf import validate_pdf\n",
        encoding="utf-8",
    )
    result = _lint(tree)
    assert result.returncode == 1
    assert _broken(result) == [
        "Other rooms enter validation through its __init__",
        "Other rooms enter signing through its __init__ "
        "(the demo, the archive's development TSA: signing.dev's __init__)",
    ]
    assert "exchange.sneaky -> signing.keys" in result.stdout


@pytest.mark.slow
def test_production_code_importing_the_development_room_is_refused(tree: Path) -> None:
    (tree / "signing" / "shortcut.py").write_text(
        "from signing.dev import DevPki\n", encoding="utf-8"
    )
    (tree / "exchange" / "service.py").write_text(
        "from signing.dev.pki import DevPki\n", encoding="utf-8"
    )
    result = _lint(tree)
    assert result.returncode == 1
    assert _broken(result) == [
        "Other rooms enter signing through its __init__ "
        "(the demo, the archive's development TSA: signing.dev's __init__)",
        "The development room is entered through its __init__",
        "Only the demo and the archive's development TSA import the development room",
        "Production code does not reach the development room, not even through another module",
    ]
    assert "signing.shortcut -> signing.dev" in result.stdout


@pytest.mark.slow
def test_only_the_demo_command_may_import_the_demo(tree: Path) -> None:
    (tree / "exchange" / "service.py").write_text("import exchange.demo\n", encoding="utf-8")
    result = _lint(tree)
    assert _broken(result) == ["Only the demo command imports the demo"]
    assert "exchange.service -> exchange.demo" in result.stdout
