"""Start-up stays cheap: each command imports only the rooms it uses (no timing, just
``sys.modules`` in a fresh interpreter)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.cli import COMMANDS, cli
from exchange.cli.i18n import Command, set_language
from signing import Level, PadesSigner, PadesSpec
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from tests.plugin import PROJECT_ROOT

HEAVY = ("pyhanko", "signxml", "lxml", "aiohttp", "PIL", "fontTools", "sqlalchemy")
"""Third-party packages that ``lienthong --help`` must not import."""
ROOMS = ("signing", "validation", "exchange.demo")
"""Our own rooms, which pull in the packages above."""
LAYOUT = ("exchange.demo", "signing", "signing.appearance", "signing.fonts", "PIL", "fontTools")
"""What signing needs and validating does not: the demo, appearances, fonts, images."""

_PROBE = """
import json, os, sys
from exchange.cli import COMMANDS, cli, main
if os.environ.get("PROBE_LOAD_ALL"):
    for name in COMMANDS:
        cli.load(name)
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _probe(*args: str, load_all: bool = False) -> tuple[int, set[str], str]:
    """Run ``lienthong ARGS`` in a fresh interpreter: exit code, imported modules, stdout.
    With ``load_all``, every command is imported first, as before they were lazy."""
    extra = {"PROBE_LOAD_ALL": "1"} if load_all else {}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "LIENTHONG_LANG": "en", "COLUMNS": "80", **extra},
        check=False,
        timeout=120,
    )
    last = proc.stderr.strip().splitlines()[-1]
    result = json.loads(last)
    return result["code"], set(result["modules"]), proc.stdout


def _loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(f"{p}.") for p in packages))


@pytest.mark.parametrize("args", [["--help"], ["--lang", "en", "--help"], ["nosuch"]])
def test_top_level_help_imports_no_room(args: list[str]) -> None:
    code, modules, _ = _probe(*args)
    assert code in (0, 64)
    assert _loaded(modules, HEAVY + ROOMS) == []
    assert "exchange.cli.verify" not in modules


@pytest.mark.parametrize(
    "args", [["verify", "--help"], ["token", "--help"], ["number", "--help"], ["verify"]]
)
def test_command_help_and_usage_errors_import_no_room(args: list[str]) -> None:
    code, modules, _ = _probe(*args)
    assert code in (0, 64)
    assert _loaded(modules, HEAVY + ROOMS) == []


@pytest.fixture(scope="module")
async def signed_pdf(
    pki: DevPki,
    dev_services: DevServices,
    sample_pdf: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    spec = PadesSpec(level=Level.B_LT, tsa_urls=(dev_services.tsa_url,))
    signed, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(sample_pdf)
    path = tmp_path_factory.mktemp("startup") / "signed.pdf"
    path.write_bytes(signed)
    return path


def test_verify_imports_validation_but_not_signing(signed_pdf: Path, pki_files: Path) -> None:
    code, modules, out = _probe(
        "verify", str(signed_pdf), "--trust", str(pki_files / "root.pem"), "--offline"
    )
    assert code in (0, 1, 2), out  # the verdict is the validation room's business
    assert "Validation time:" in out
    assert "validation" in modules
    assert _loaded(modules, LAYOUT) == []
    front = ("exchange.cli.lazy", "exchange.cli.i18n")  # the group itself and its languages
    assert [m for m in modules if m.startswith("exchange.cli.") and m not in front] == [
        "exchange.cli.verify"
    ]


def test_command_list_is_the_commands_own_help() -> None:
    """The top-level ``--help`` lists summaries without importing the commands; they must
    read as the commands' own help would, at any width."""
    for name, spec in COMMANDS.items():
        real = cli.load(name)
        stand_in = Command(name, help=spec.summary)
        for lang in ("vi", "en"):
            set_language(lang)
            for limit in range(10, 120):
                assert stand_in.get_short_help_str(limit) == real.get_short_help_str(limit), name
    _, modules, lazy_help = _probe("--help")
    _, _, loaded_help = _probe("--help", load_all=True)
    assert "exchange.cli.verify" not in modules
    assert all(f"  {name} " in lazy_help for name in COMMANDS)
    assert lazy_help == loaded_help
