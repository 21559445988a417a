"""The development room says what it is, and production mode refuses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import validation
from signing import DevelopmentPartRefused, FileKeyWarning, load_pkcs12, production_mode
from signing.dev.assets import (
    DevAssetsWarning,
    draw_seal_png,
    draw_signature_png,
    make_sample_cong_van,
)
from signing.dev.pki import DevPki, DevPkiWarning, InMemoryKeyWarning
from signing.dev.services import DevServicesWarning, serve_dev_services
from signing.dev.token import DevTokenWarning, SoftHsmHome
from tests.plugin import PROJECT_ROOT, run_cli

DEV_WARNINGS = (DevPkiWarning, InMemoryKeyWarning, DevServicesWarning, DevTokenWarning)


def test_each_development_part_has_its_own_warning_under_the_lowest_rooms_base() -> None:
    classes = (*DEV_WARNINGS, DevAssetsWarning)
    assert len(set(classes)) == len(classes)
    for cls in classes:
        assert issubclass(cls, validation.DevelopmentModeWarning)
        assert cls is not validation.DevelopmentModeWarning


def test_each_development_part_warns_when_used(pki: DevPki, tmp_path: Path) -> None:
    with pytest.warns(DevPkiWarning, match="development PKI"):
        DevPki.generate("http://127.0.0.1:1")
    pki.save(tmp_path / "pki")
    with pytest.warns(DevPkiWarning):
        DevPki.load(tmp_path / "pki")
    with pytest.warns(InMemoryKeyWarning, match="in memory"):
        pki.in_memory_key("personal")
    with pytest.warns(DevServicesWarning, match="prove nothing"), serve_dev_services():
        pass
    with pytest.warns(DevTokenWarning, match="SoftHSM2"):
        SoftHsmHome(tmp_path / "softhsm").ensure()
    with pytest.warns(DevAssetsWarning):
        make_sample_cong_van()
    with pytest.warns(DevAssetsWarning):
        draw_signature_png("Nguyễn Văn A")
    with pytest.warns(DevAssetsWarning):
        draw_seal_png("Sở Nội vụ")
    with pytest.warns(validation.DevelopmentModeWarning) as record:
        pki.in_memory_key("agency")
    assert record[0].message.vi.startswith("ký bằng khóa thử nghiệm")  # type: ignore[union-attr]


def test_a_pkcs12_file_key_warns_as_an_ordinary_user_warning(pki: DevPki, tmp_path: Path) -> None:
    assert issubclass(FileKeyWarning, UserWarning)
    assert not issubclass(FileKeyWarning, validation.DevelopmentModeWarning)
    p12 = tmp_path / "key.p12"
    p12.write_bytes(pki.pkcs12("personal", b"pw"))
    with pytest.warns(FileKeyWarning) as record:
        load_pkcs12(p12, b"pw")
    assert not any(isinstance(w.message, validation.DevelopmentModeWarning) for w in record.list)


def test_production_mode_refuses_every_development_part_with_a_clear_error(
    pki: DevPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p12 = tmp_path / "key.p12"
    p12.write_bytes(pki.pkcs12("personal", b"pw"))
    monkeypatch.setenv("LIENTHONG_MODE", "production")
    assert production_mode()
    parts = [
        lambda: DevPki.generate("http://127.0.0.1:1"),
        lambda: pki.in_memory_key("personal"),
        lambda: serve_dev_services().__enter__(),
        lambda: SoftHsmHome(tmp_path / "softhsm").ensure(),
        make_sample_cong_van,
        lambda: draw_seal_png("Sở Nội vụ"),
    ]
    for part in parts:
        with pytest.raises(DevelopmentPartRefused) as refused:
            part()
        assert refused.value.en.startswith("refused in production mode: ")
        assert "chế độ vận hành chính thức" in refused.value.vi
    assert not (tmp_path / "softhsm").exists()  # refused before anything was made
    # a PKCS#12 file is a production key source: still allowed, with its ordinary warning
    with pytest.warns(FileKeyWarning):
        load_pkcs12(p12, b"pw")


def test_an_unknown_mode_is_an_error_not_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIENTHONG_MODE", "prod")
    with pytest.raises(DevelopmentPartRefused, match="'development' or 'production'"):
        production_mode()
    monkeypatch.setenv("LIENTHONG_MODE", "development")
    assert not production_mode()


def test_the_service_switch_holds_for_the_whole_process() -> None:
    # in a child process: the switch has no way back
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from signing import enter_production_mode, production_mode, DevelopmentPartRefused\n"
        "from signing.dev.assets import make_sample_cong_van\n"
        "make_sample_cong_van()\n"
        "enter_production_mode()\n"
        "assert production_mode()\n"
        "try:\n"
        "    make_sample_cong_van()\n"
        "except DevelopmentPartRefused as exc:\n"
        "    print(exc.code)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "signing.development_part_refused"


@pytest.mark.hsm
def test_the_demo_refuses_to_run_in_production_mode(tmp_path: Path) -> None:
    result = run_cli(
        "demo",
        "--data-dir",
        str(tmp_path / "demo"),
        env={"LIENTHONG_MODE": "production", "LIENTHONG_LANG": "vi"},
    )
    assert result.code == 64
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err
    assert "chế độ vận hành chính thức" in lines[0]
    assert not (tmp_path / "demo" / "softhsm" / "tokens").exists()


def test_the_program_calls_a_file_key_a_warning_not_development(
    pki: DevPki, sample_pdf: bytes, tmp_path: Path
) -> None:
    p12, doc = tmp_path / "key.p12", tmp_path / "doc.pdf"
    p12.write_bytes(pki.pkcs12("agency", b"pw"))
    doc.write_bytes(sample_pdf)
    args = ("sign", "pdf", str(doc), "-o", str(tmp_path / "out.pdf"), "--key", str(p12))
    result = run_cli(*args, "--pin-env", "P", env={"P": "pw", "LIENTHONG_LANG": "vi"})
    assert result.code == 0, result.err
    [line] = [x for x in result.err.splitlines() if "USB token" in x]
    assert line.startswith("lienthong: cảnh báo: ký bằng khóa đọc từ tệp")
    assert "phát triển" not in result.err
