"""Settings: environment variables and a TOML file; unknown keys are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.errors import ConfigurationError
from exchange.settings import async_url, load_settings


def test_defaults_live_in_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LIENTHONG_DATA_DIR", raising=False)
    monkeypatch.delenv("LIENTHONG_DATABASE_URL", raising=False)
    monkeypatch.delenv("LIENTHONG_CONFIG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = load_settings()
    assert settings.data_dir == tmp_path / "lienthong"
    assert settings.database == f"sqlite+aiosqlite:///{tmp_path / 'lienthong' / 'lienthong.db'}"
    assert settings.blobs == tmp_path / "lienthong" / "blobs"
    assert not settings.production


def test_a_toml_file_and_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "lienthong.toml"
    config.write_text(
        'data_dir = "/srv/lienthong"\nport = 9000\n'
        'database_url = "postgresql://lt@db.internal/lienthong"\nproduction = true\n'
    )
    monkeypatch.setenv("LIENTHONG_PORT", "9100")  # the environment wins over the file
    settings = load_settings(config)
    assert settings.port == 9100
    assert settings.data_dir == Path("/srv/lienthong")
    assert settings.database == "postgresql+asyncpg://lt@db.internal/lienthong"
    assert settings.production
    monkeypatch.setenv("LIENTHONG_CONFIG", str(config))
    assert load_settings().data_dir == Path("/srv/lienthong")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prot = 9000\n", "Unknown setting 'prot'"),
        ('port = "many"\n', "Setting 'port' is invalid"),
        ("port = 99999\n", "Setting 'port' is invalid"),
        ('database_url = "mysql://x"\n', "Setting 'database_url' is invalid"),
        ("port = [\n", "cannot be read"),
    ],
)
def test_bad_settings_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "lienthong.toml"
    config.write_text(text)
    with pytest.raises(ConfigurationError) as raised:
        load_settings(config)
    assert message in raised.value.en
    assert raised.value.vi != raised.value.en


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_async_drivers() -> None:
    assert async_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert async_url("postgres://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert async_url("postgresql+psycopg://u@h/d") == "postgresql+asyncpg://u@h/d"


def test_agencies_signing_keys_from_toml(tmp_path: Path) -> None:
    config = tmp_path / "lienthong.toml"
    config.write_text(
        'tsa_urls = ["http://tsa.example/tsr"]\n'
        '[agencies."000.00.01.H53".signers.giamdoc]\n'
        'key = "pkcs11:token=Agency;object=giamdoc"\n'
        'pin_env = "GIAMDOC_PIN"\n'
        'signature_image = "/etc/lienthong/giamdoc.png"\n'
    )
    settings = load_settings(config)
    key = settings.agencies["000.00.01.H53"].signers["giamdoc"]
    assert key.key.startswith("pkcs11:") and key.signature_image == Path(
        "/etc/lienthong/giamdoc.png"
    )
    assert settings.tsa_urls == ("http://tsa.example/tsr",)
    config.write_text(config.read_text().replace("pin_env", "pin_evn"))
    with pytest.raises(ConfigurationError, match="pin_evn"):
        load_settings(config)
