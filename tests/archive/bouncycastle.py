"""Bouncy Castle (Java) as the second opinion on our RFC 4998 evidence records.

``tests/archive/java/ErsCheck.java`` is compiled once per test session against Debian's
``libbcpkix-java`` 1.72 (``/usr/share/java/bcpkix.jar``, ``bcprov.jar``, ``bcutil.jar``) and a
JDK (``default-jdk-headless``); ``scripts/bootstrap`` installs both. A machine without them
skips with one line naming what is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

SOURCE = Path(__file__).parent / "java" / "ErsCheck.java"
JARS = ("bcpkix.jar", "bcprov.jar", "bcutil.jar")


def _jar_dir() -> Path:
    return Path(os.environ.get("LIENTHONG_BC_JARS", "/usr/share/java"))


def missing() -> str | None:
    """What is missing to run the check, or ``None``."""
    absent = [tool for tool in ("javac", "java") if shutil.which(tool) is None]
    absent += [str(_jar_dir() / jar) for jar in JARS if not (_jar_dir() / jar).is_file()]
    if not absent:
        return None
    return (
        f"Bouncy Castle check needs {', '.join(absent)} "
        "(apt-get install default-jdk-headless libbcpkix-java libbcprov-java libbcutil-java)"
    )


@dataclass(frozen=True, slots=True)
class BouncyCastle:
    classes: Path

    @property
    def classpath(self) -> str:
        return os.pathsep.join([str(self.classes), *(str(_jar_dir() / j) for j in JARS)])

    def verdicts(self, pairs: Sequence[tuple[Path, Path]], at: datetime) -> list[str]:
        """BC's verdict (``accepted`` or ``rejected: …``) on each (record, data) pair, no
        archive timestamp allowed after ``at``."""
        args = [str(p) for pair in pairs for p in pair]
        proc = subprocess.run(
            [
                "java",
                "-cp",
                self.classpath,
                "ErsCheck",
                at.isoformat().replace("+00:00", "Z"),
                *args,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        lines = proc.stdout.splitlines()
        if proc.returncode not in (0, 1) or len(lines) != len(pairs):
            raise AssertionError(f"ErsCheck failed to run ({proc.returncode}): {proc.stderr}")
        return lines

    def accepts(self, record: Path, data: Path, at: datetime) -> bool:
        [verdict] = self.verdicts([(record, data)], at)
        return verdict == "accepted"


def compile_check(directory: Path) -> BouncyCastle:
    """Compile ErsCheck into ``directory`` (skip when Java or the jars are missing)."""
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    checker = BouncyCastle(directory)
    subprocess.run(
        ["javac", "-cp", checker.classpath, "-d", str(directory), str(SOURCE)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return checker
