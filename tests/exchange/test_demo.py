"""``lienthong demo``: the README's first command, end to end, and reused the second time."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.plugin import pdfsig, run_cli


@pytest.mark.slow
@pytest.mark.hsm
def test_demo_signs_a_cong_van_and_reuses_its_pki(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    first = run_cli("demo", "--data-dir", str(data))
    assert first.code == 0, first.err
    assert "creating a development PKI" in first.err
    assert "development" in first.err  # the dev TSA and PKI say what they are
    match = re.search(r"signed document: (\S+\.pdf)", first.out)
    assert match, first.out
    output = Path(match.group(1))
    assert output.is_file()
    assert "VALID (TOTAL-PASSED)" in first.out and "NOT VALID" not in first.out
    assert "Legal value (Decree 30/2020 Art. 5): YES" in first.out
    assert "form filling" in first.out  # number and date, filled after the personal signature
    assert "Lienthong Dev TSA" in first.out  # the agency signature's timestamp

    # a second opinion, trusting the demo's development root
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{nss}",
            "-n",
            "dev-root",
            "-t",
            "CT,C,C",
            "-a",
            "-i",
            str(data / "pki" / "root.cert.pem"),
        ],
        check=True,
    )
    opinions = pdfsig(output, nss)
    assert [o.signer for o in opinions] == [
        "Nguyễn Thị Hương Giang",
        "Sở Thông tin và Truyền thông tỉnh Thái Bình",
    ]
    assert all(o.valid for o in opinions)
    text = subprocess.run(
        ["pdftotext", str(output), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text

    second = run_cli(
        "demo", "--data-dir", str(data), env={"SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"]}
    )
    assert second.code == 0, second.err
    assert "creating" not in second.err
