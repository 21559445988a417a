"""The archive room, composed for this node: its catalog in the node's database, its two
storage roots and timestamp authority from the settings, the node's trust anchors.

On the embedded default (development mode, no TSA configured) the archive's timestamps come
from the development TSA, started for the command, which says so; production mode refuses
to run without a real TSA URL, and with two storage roots on one device.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509

from archive import Archive, ArchiveError, TwoCopyStore
from exchange.db import open_engine, require_current_schema, sessions
from exchange.errors import ConfigurationError, ExchangeError
from exchange.incoming import CERTIFICATE_SUFFIXES, TRUST_DIR
from exchange.settings import Settings
from signing import HttpTimestamper
from validation import TrustAnchors, ValidationPolicy, load_certificates

log = logging.getLogger(__name__)

Notice = Callable[[str, str], None]
"""``(en, vi)``: something the person running the command should know."""


def trust_files(settings: Settings, extra: Sequence[Path] = ()) -> list[Path]:
    """The node's trust anchors (``<data_dir>/trust``) and ``extra``."""
    folder = settings.data_dir / TRUST_DIR
    files = (
        sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in CERTIFICATE_SUFFIXES)
        if folder.is_dir()
        else []
    )
    return [*files, *extra]


def _roots(files: Sequence[Path]) -> tuple[asn1_x509.Certificate, ...]:
    return tuple(cert for path in files for cert in load_certificates(path))


def check_media(settings: Settings, store: TwoCopyStore, notice: Notice | None = None) -> None:
    """TT 05/2025 asks for at least two copies on independent media: refuse, in production
    mode, two roots on one device (file system); in development mode say so and go on.

    Different devices are the least that can be checked from here (two partitions of one disk
    pass); that the media are really independent stays the operator's part.
    """
    if store.independent_devices:
        return
    first, second = store.roots
    if settings.production:
        default = settings.archive_roots is None
        raise ConfigurationError(
            f"the archive's two storage roots {first} and {second}"
            f"{' (the default, in the data directory)' if default else ''} are on the same "
            "device; production mode needs two copies on independent media (TT 05/2025): "
            "set archive_roots in the configuration file, or the environment variable "
            'LIENTHONG_ARCHIVE_ROOTS (e.g. \'["/mnt/copy-a", "/mnt/copy-b"]\'), to two '
            "directories on different disks",
            f"hai nơi lưu trữ của kho {first} và {second}"
            f"{' (mặc định, trong thư mục dữ liệu)' if default else ''} nằm trên cùng một thiết "
            "bị; chế độ chính thức cần hai bản trên hai phương tiện độc lập (TT 05/2025): hãy "
            "đặt archive_roots trong tệp cấu hình, hoặc biến môi trường LIENTHONG_ARCHIVE_ROOTS "
            '(ví dụ \'["/mnt/copy-a", "/mnt/copy-b"]\'), là hai thư mục trên hai ổ đĩa khác '
            "nhau",
            needs="independent_media",
        )
    if notice is None:
        return
    if settings.archive_roots is None:
        notice(
            "the archive keeps its two copies in the data directory, on one disk: configure "
            "archive_roots on two independent disks for real records",
            "kho lưu trữ giữ hai bản trong thư mục dữ liệu, trên cùng một ổ đĩa: hãy cấu hình "
            "archive_roots trên hai ổ độc lập cho tài liệu thật",
        )
    else:
        notice(
            f"the archive's two storage roots {first} and {second} are on the same device: "
            "production mode refuses this; configure archive_roots on two independent disks "
            "for real records",
            f"hai nơi lưu trữ của kho {first} và {second} nằm trên cùng một thiết bị: chế độ "
            "chính thức sẽ từ chối; hãy cấu hình archive_roots trên hai ổ độc lập cho tài liệu "
            "thật",
        )


@contextlib.asynccontextmanager
async def open_archive(
    settings: Settings,
    *,
    trust: Sequence[Path] = (),
    timestamps: bool = True,
    notice: Notice | None = None,
) -> AsyncIterator[Archive]:
    """The archive of this node. ``timestamps``: the command makes archive timestamps or
    document timestamps (ingest, seal, renew), so a TSA is needed."""
    store = TwoCopyStore(*settings.archive_copies)
    check_media(settings, store, notice)  # before anything is made: a refusal leaves nothing
    store.initialise()
    urls = settings.archive_tsa_urls or settings.tsa_urls
    files = trust_files(settings, trust)
    async with contextlib.AsyncExitStack() as stack:
        if timestamps and not urls:
            if settings.production:
                raise ConfigurationError(
                    "archive timestamps need a timestamp authority in production mode "
                    "(archive_tsa_urls or tsa_urls)",
                    "dấu thời gian lưu trữ cần máy chủ dấu thời gian khi chạy chính thức "
                    "(archive_tsa_urls hoặc tsa_urls)",
                    needs="timestamp_authority",
                )
            from exchange.devtsa import development_tsa

            dev = stack.enter_context(development_tsa(settings.data_dir))
            urls = (dev.url,)
            files.append(dev.root_pem)
            if notice is not None:
                notice(
                    f"archive timestamps come from the development TSA ({dev.url}): they "
                    f"prove nothing outside development; its root is {dev.root_pem}",
                    f"dấu thời gian lưu trữ lấy từ máy chủ dấu thời gian thử nghiệm ({dev.url}): "
                    f"không có giá trị ngoài môi trường thử nghiệm; chứng thư gốc: {dev.root_pem}",
                )
        elif not settings.production:
            dev_root = settings.data_dir / "archive" / "dev-pki" / "root.pem"
            if dev_root.is_file():
                files.append(dev_root)
        anchors = TrustAnchors.from_files({"public": files})
        timestamper = None
        if urls:
            timestamper = await stack.enter_async_context(HttpTimestamper(list(urls)))
        engine = await stack.enter_async_context(open_engine(settings.database))
        await require_current_schema(engine)
        yield Archive(
            sessions=sessions(engine),
            store=store,
            timestamper=timestamper,
            policy=ValidationPolicy(anchors=anchors, revocation="soft"),
            trust_roots=_roots(files),
        )


async def scheduled_once(
    settings: Settings, *, now: datetime | None = None, notice: Notice | None = None
) -> tuple[int, bool]:
    """The archive's scheduled work, once: renew what the policy says is due, and audit both
    copies when the last audit is older than ``archive_audit_days``. Returns (archive
    timestamps made, whether an audit ran)."""
    from archive import audit, last_audit, plan_renewal, renew

    now = now or datetime.now(UTC)
    async with open_archive(settings, timestamps=False) as quiet:
        steps = await plan_renewal(quiet, now=now)
        last = await last_audit(quiet)
    made = 0
    if steps:
        async with open_archive(settings, notice=notice) as archive:
            made = len(await renew(archive, steps))
    audited = False
    if last is None or now - last >= timedelta(days=settings.archive_audit_days):
        async with open_archive(settings, timestamps=False) as archive:
            await audit(archive)
        audited = True
    return made, audited


async def schedule(settings: Settings, stop: asyncio.Event, notice: Notice | None = None) -> None:
    """Run :func:`scheduled_once` every ``archive_schedule_hours`` until ``stop`` is set. A
    failure is logged and tried again next time: the worker's deliveries go on."""
    period = settings.archive_schedule_hours * 3600
    while not stop.is_set():
        try:
            await scheduled_once(settings, notice=notice)
        except (ExchangeError, ArchiveError) as exc:  # said for a person: one line, no traceback
            log.error("archive: %s / %s", exc.en, exc.vi)
        except Exception:  # one bad round must not stop the worker
            log.exception("the archive's scheduled renewal and audit failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=period)
