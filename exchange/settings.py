"""The service's settings, read once at the process edge: ``LIENTHONG_*`` environment variables
and an optional TOML file (``LIENTHONG_CONFIG`` or the command line's ``--config``).

Unknown keys in the file are errors (a misspelt key must not be silently ignored). Environment
variables win over the file. Inner code never sees this class: :func:`load_settings` returns
it once and the app factory and the commands pass it (or the values they need) down.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from exchange.errors import ConfigurationError

CONFIG_ENV = "LIENTHONG_CONFIG"
"""The environment variable naming the TOML settings file."""
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("lienthong_config_file", default=None)
"""The file given to :func:`load_settings`, if any (it wins over ``$LIENTHONG_CONFIG``)."""


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/lienthong`` (``~/.local/share/lienthong``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lienthong"


class SignerKey(BaseModel):
    """A signer's key the server can reach (an HSM, a token on the server)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    """PKCS#11 URI (RFC 7512) or a PKCS#12 file."""
    pin_env: str | None = None
    """The environment variable holding the PIN."""
    pin_file: Path | None = None
    """A file holding the PIN."""
    signature_image: Path
    """The signer's signature image (blue, transparent PNG; Decree 30 App. I item 7d)."""


class SealKey(BaseModel):
    """The agency's own key (the agency signature, "seal") and its seal image."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    """PKCS#11 URI (RFC 7512) or a PKCS#12 file."""
    pin_env: str | None = None
    pin_file: Path | None = None
    chain: Path | None = None
    """PEM file with the CA certificates of the key's chain (B-LT needs its root)."""
    seal_image: Path
    """The red, transparent PNG of the seal (Decree 30 App. I item 8a)."""
    seal_diameter_mm: float = Field(default=36.0, gt=10, lt=80)
    """The seal's real size."""


class AgencyConfig(BaseModel):
    """What this node knows about signing for one of its agencies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signers: dict[str, SignerKey] = Field(default_factory=dict)
    """Server-side keys by user name."""
    seal: SealKey | None = None
    """The agency signature's key."""


class Settings(BaseSettings):
    """What one lienthong node needs to run."""

    model_config = SettingsConfigDict(
        env_prefix="LIENTHONG_", extra="forbid", frozen=True, validate_default=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    """Where the SQLite database and the blob store live."""
    database_url: str | None = None
    """SQLAlchemy URL; ``sqlite:///…`` or ``postgresql://…`` (the async driver is added).
    Default: ``lienthong.db`` in the data directory."""
    blob_dir: Path | None = None
    """The blob store's directory; default ``blobs`` in the data directory."""
    host: str = "127.0.0.1"
    port: int = Field(default=8730, ge=1, le=65535)
    production: bool = False
    """Production mode refuses the development-only parts."""
    login_max_failures: int = Field(default=5, ge=1)
    """Failed logins allowed per account (and per address) within ``login_window_seconds``."""
    login_window_seconds: int = Field(default=900, ge=1)
    """How long failures are remembered, and how long a throttled login stays refused."""
    session_hours: int = Field(default=8, ge=1, le=24 * 30)
    """How long a token from the login endpoint is valid."""
    max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    """The largest file the blob store accepts from one request."""
    tsa_urls: tuple[str, ...] = ()
    """Timestamp authorities for the signatures the service makes."""
    delivery_worker: bool = True
    """``lienthong serve`` also delivers the outbox (one worker in the server process); turn it
    off when separate ``lienthong worker`` processes do."""
    delivery_max_attempts: int = Field(default=12, ge=1)
    delivery_first_delay_seconds: float = Field(default=2.0, gt=0)
    """Seconds before a failed delivery is tried again, doubled each time (up to 15 minutes)."""
    delivery_poll_seconds: float = Field(default=2.0, gt=0)
    """How often an idle worker looks at the outbox (it is woken at once by its own process)."""
    delivery_lease_seconds: float = Field(default=180.0, gt=0)
    """How long a worker's claim on a message lasts: longer than one delivery can take. A
    worker killed mid-delivery leaves its messages to the others once this has passed."""
    agencies: dict[str, AgencyConfig] = Field(default_factory=dict)
    """Per hosted agency (by OrganId): its server-side signing keys."""
    archive_roots: tuple[Path, Path] | None = None
    """The archive's two storage roots, on independent media (TT 05/2025: at least two
    sets); default ``archive/copy-1`` and ``archive/copy-2`` in the data directory, which
    share a disk: development only."""
    archive_code: str = Field(default="LIENTHONG", min_length=1, max_length=40)
    """The archive agency's code: the prefix of arcFileCode in the packages it writes."""
    archive_schedule_hours: float = Field(default=24.0, gt=0)
    """How often ``lienthong worker`` looks for archive renewals due and audits."""
    archive_audit_days: int = Field(default=30, ge=1)
    """Audit both copies when the last audit is older than this (TT 05/2025 asks every record
    checked within three years; monthly is the default)."""
    archive_tsa_urls: tuple[str, ...] = ()
    """Timestamp authorities for archive timestamps; default: ``tsa_urls``. Without either,
    development mode uses the development TSA and production mode refuses."""

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("only SQLite and PostgreSQL databases are supported")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _CONFIG_FILE.get() or os.environ.get(CONFIG_ENV)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(path)))
        return tuple(sources)

    @property
    def database(self) -> str:
        """The async SQLAlchemy URL."""
        return async_url(self.database_url or f"sqlite:///{self.data_dir / 'lienthong.db'}")

    @property
    def blobs(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"

    @property
    def archive_copies(self) -> tuple[Path, Path]:
        return self.archive_roots or (
            self.data_dir / "archive" / "copy-1",
            self.data_dir / "archive" / "copy-2",
        )


def async_url(url: str) -> str:
    """``url`` with the async driver lienthong uses (aiosqlite, asyncpg)."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if url.startswith("postgresql+psycopg"):
        return "postgresql+asyncpg" + url[url.index("://") :]
    return url


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """The settings from the environment, ``config_file`` (or ``$LIENTHONG_CONFIG``) and
    ``overrides``; any problem is one :class:`ConfigurationError`."""
    named = config_file or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if named is not None and not named.is_file():
        raise ConfigurationError(
            f"The settings file {named} does not exist.", f"Không có tệp cấu hình {named}."
        )
    token = _CONFIG_FILE.set(named)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "?"
        if first["type"] == "extra_forbidden":
            raise ConfigurationError(
                f"Unknown setting {where!r}.", f"Khóa cấu hình không hợp lệ: {where!r}."
            ) from exc
        raise ConfigurationError(
            f"Setting {where!r} is invalid: {first['msg']}.",
            f"Giá trị cấu hình {where!r} không hợp lệ: {first['msg']}.",
        ) from exc
    except (OSError, ValueError) as exc:  # an unreadable or malformed TOML file
        raise ConfigurationError(
            f"The settings file cannot be read: {exc}.", f"Không đọc được tệp cấu hình: {exc}."
        ) from exc
    finally:
        _CONFIG_FILE.reset(token)
