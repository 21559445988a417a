"""Users, roles, API tokens and logins.

Passwords are hashed with argon2id. A bearer token is ``lt_<public id>_<secret>``: the public
id finds the row, and only the SHA-256 of the secret is kept (the secret has 256 bits, so a
slow hash adds nothing); it is shown once, when it is issued. A login gives a session token
of the same form, which carries the user's roles as they are at each request, so disabling a
user stops their sessions at once.

No user enumeration: an unknown name, a disabled account and a wrong password get the same
error, after the same work (a password check against a dummy hash, made when the service
starts, when there is no user), and throttling counts attempts per name whether or not the
name exists. Each attempt is counted *before* the password is checked, so parallel guesses
cannot slip past the limit.

Throttling without lock-out: failures are counted per (name, address) and per address, each
allowed ``max_failures`` in a window, and per name with a ceiling ``name_factor`` times higher.
Wrong guesses from other addresses therefore do not lock a user out: the right password from
an address that has not failed is accepted until the name's own ceiling is reached, and that
ceiling still bounds a guess spread over many addresses (by default 100 per 15 minutes). Once
it is reached, only an address the user logged in from before (within ``trusted_for``) still
gets in. A refused attempt is not counted, so hammering from one refused address does not use
up the name's ceiling. Each login, failed or not, deletes a bounded batch of expired counters
(and remembered addresses older than ``trusted_for``), so the table holds only live ones.

Machine tokens belong to the agency, not to the administrator who issued them: disabling that
administrator ends their own sessions but leaves the agency's machine tokens working (an
integration must not stop because a person left); revoke a machine token on its own.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exchange import audit
from exchange.db.engine import transaction
from exchange.db.models import Agency, ApiToken, LoginThrottle, User
from exchange.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyAttempts
from exchange.errors import Unauthenticated as _Unauthenticated


class Role(enum.StrEnum):
    CLERK = "clerk"
    """Văn thư: registers, numbers, seals and sends; registers incoming documents."""
    SIGNER = "signer"
    """Lãnh đạo: signs drafts."""
    ARCHIVIST = "archivist"
    """Lưu trữ: receives closed dossiers, reads the history."""
    ADMIN = "admin"
    """Quản trị: users, tokens, registers, the directory."""


USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD = 10
BEARER_PREFIX = "lt"

_hasher = PasswordHasher()  # argon2id, the library's (RFC 9106) defaults


@functools.cache
def _dummy_hash() -> str:
    """Checked against when there is no such user, so that the answer takes as long."""
    return _hasher.hash(secrets.token_hex(16))


def prepare_logins() -> None:
    """Make the dummy hash now (the service calls this when it starts), so that the first
    login for an unknown name does not take one hash longer than any other."""
    _dummy_hash()


def unauthenticated() -> _Unauthenticated:
    return _Unauthenticated(
        "The user name, password or token is wrong, or the account is disabled.",
        "Tên đăng nhập, mật khẩu hoặc mã truy cập không đúng, hoặc tài khoản đã bị khóa.",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is asking: the agency every query is scoped to, and the roles."""

    agency_id: int
    organ_id: str
    roles: frozenset[Role]
    actor: audit.Actor
    user_id: int | None = None
    token_id: int | None = None
    username: str | None = None
    """The person's user name (None for a machine token)."""

    def require(self, *allowed: Role) -> None:
        """:class:`Forbidden` unless the principal has one of ``allowed``."""
        if not self.roles.intersection(allowed):
            wanted = ", ".join(r.value for r in allowed)
            raise Forbidden(
                f"This needs one of the roles: {wanted}.",
                f"Việc này cần một trong các vai trò: {wanted}.",
            )


async def operator(session: AsyncSession, organ_id: str, actor: audit.Actor) -> Principal:
    """The principal of an administrator at the command line, acting for ``organ_id``
    (which this node must host)."""
    agency = await session.scalar(
        select(Agency).where(Agency.organ_id == organ_id, Agency.hosted.is_(True))
    )
    if agency is None:
        raise NotFound(
            f"This node hosts no agency {organ_id}.", f"Nút này không phục vụ cơ quan {organ_id}."
        )
    return Principal(
        agency_id=agency.id, organ_id=agency.organ_id, roles=frozenset(Role), actor=actor
    )


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    roles = set()
    for value in values:
        for part in value.replace(",", " ").split():
            try:
                roles.add(Role(part.strip().lower()))
            except ValueError:
                known = ", ".join(r.value for r in Role)
                raise BadRequest(
                    f"Unknown role {part!r} (known: {known}).",
                    f"Vai trò không hợp lệ {part!r} (các vai trò: {known}).",
                ) from None
    if not roles:
        raise BadRequest("At least one role is needed.", "Cần ít nhất một vai trò.")
    return frozenset(roles)


def _roles_text(roles: Iterable[Role]) -> str:
    return " ".join(sorted(r.value for r in roles))


def _roles_of(text: str) -> frozenset[Role]:
    return frozenset(Role(r) for r in text.split())


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise BadRequest(
            "A user name has 3 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter "
            "or digit.",
            "Tên đăng nhập gồm 3 đến 64 ký tự a-z, 0-9, '.', '_' và '-', bắt đầu bằng chữ hoặc số.",
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise BadRequest(
            f"The password must have at least {MIN_PASSWORD} characters.",
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.",
        )
    return password


# -- users -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class UserView:
    id: int
    username: str
    full_name: str
    organ_id: str
    roles: tuple[str, ...]
    created_at: datetime
    disabled: bool


def _view(user: User, organ_id: str) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        organ_id=organ_id,
        roles=tuple(sorted(user.roles.split())),
        created_at=user.created_at,
        disabled=user.disabled_at is not None,
    )


async def add_user(
    session: AsyncSession,
    principal: Principal,
    *,
    username: str,
    password: str,
    roles: frozenset[Role],
    full_name: str = "",
) -> UserView:
    name = check_username(username)
    check_password(password)
    if len(full_name) > 100:
        raise BadRequest(
            "The full name is longer than 100 characters.", "Họ tên dài quá 100 ký tự."
        )
    if await session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"The user name {name!r} is taken.", f"Tên đăng nhập {name!r} đã được dùng.")
    digest = await asyncio.to_thread(_hasher.hash, password)
    user = User(
        agency_id=principal.agency_id,
        username=name,
        full_name=full_name.strip(),
        roles=_roles_text(roles),
        password_hash=digest,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    await session.flush()
    await audit.record(
        session,
        actor=principal.actor,
        action="user.add",
        agency=principal.organ_id,
        details={"user": name, "roles": user.roles},
    )
    return _view(user, principal.organ_id)


async def list_users(session: AsyncSession, principal: Principal) -> list[UserView]:
    users = await session.scalars(
        select(User).where(User.agency_id == principal.agency_id).order_by(User.username)
    )
    return [_view(u, principal.organ_id) for u in users]


async def _user(session: AsyncSession, principal: Principal, username: str) -> User:
    user = await session.scalar(
        select(User).where(User.agency_id == principal.agency_id, User.username == username.lower())
    )
    if user is None:
        raise NotFound("No such user.", "Không có người dùng này.")
    return user


async def get_user(session: AsyncSession, principal: Principal, username: str) -> UserView:
    return _view(await _user(session, principal, username), principal.organ_id)


async def disable_user(session: AsyncSession, principal: Principal, username: str) -> UserView:
    """Disable the account and revoke its tokens (sessions included)."""
    user = await _user(session, principal, username)
    now = datetime.now(UTC)
    if user.disabled_at is None:
        user.disabled_at = now
        await session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await audit.record(
            session,
            actor=principal.actor,
            action="user.disable",
            agency=principal.organ_id,
            details={"user": user.username},
        )
    return _view(user, principal.organ_id)


# -- tokens -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedToken:
    public_id: str
    secret: str
    """The whole bearer token, shown once."""
    name: str
    roles: tuple[str, ...]
    expires_at: datetime | None


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def _new_token(
    session: AsyncSession,
    *,
    kind: str,
    agency_id: int,
    user_id: int | None,
    name: str,
    roles: str,
    expires_at: datetime | None,
) -> tuple[ApiToken, str]:
    public_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = ApiToken(
        public_id=public_id,
        secret_sha256=_sha256(secret),
        kind=kind,
        agency_id=agency_id,
        user_id=user_id,
        name=name,
        roles=roles,
        created_at=datetime.now(UTC),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row, f"{BEARER_PREFIX}_{public_id}_{secret}"


async def issue_token(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    roles: frozenset[Role],
    expires_at: datetime | None = None,
) -> IssuedToken:
    """A machine token of ``agency`` with its own roles."""
    label = name.strip()
    if not label or len(label) > 100:
        raise BadRequest(
            "A token needs a name of at most 100 characters.",
            "Mã truy cập cần một tên dài tối đa 100 ký tự.",
        )
    row, secret = await _new_token(
        session,
        kind="machine",
        agency_id=principal.agency_id,
        user_id=None,
        name=label,
        roles=_roles_text(roles),
        expires_at=expires_at,
    )
    await audit.record(
        session,
        actor=principal.actor,
        action="token.issue",
        agency=principal.organ_id,
        details={"token": row.public_id, "name": label, "roles": row.roles},
    )
    return IssuedToken(
        public_id=row.public_id,
        secret=secret,
        name=label,
        roles=tuple(sorted(roles)),
        expires_at=expires_at,
    )


async def revoke_token(session: AsyncSession, principal: Principal, public_id: str) -> None:
    row = await session.scalar(
        select(ApiToken).where(
            ApiToken.agency_id == principal.agency_id, ApiToken.public_id == public_id
        )
    )
    if row is None:
        raise NotFound("No such token.", "Không có mã truy cập này.")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await audit.record(
            session,
            actor=principal.actor,
            action="token.revoke",
            agency=principal.organ_id,
            details={"token": public_id},
        )


async def authenticate(session: AsyncSession, bearer: str, *, origin: str) -> Principal:
    """The principal of a bearer token; :func:`unauthenticated` for anything else."""
    parts = bearer.split("_", 2)
    if len(parts) != 3 or parts[0] != BEARER_PREFIX:
        raise unauthenticated()
    row = await session.scalar(select(ApiToken).where(ApiToken.public_id == parts[1]))
    given = _sha256(parts[2])
    if row is None or not hmac.compare_digest(row.secret_sha256, given):
        raise unauthenticated()
    now = datetime.now(UTC)
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise unauthenticated()
    agency = await session.get(Agency, row.agency_id)
    if agency is None or not agency.hosted:
        raise unauthenticated()
    if row.user_id is not None:
        user = await session.get(User, row.user_id)
        if user is None or user.disabled_at is not None:
            raise unauthenticated()
        roles, actor = _roles_of(user.roles), f"user:{user.username}"
    else:
        roles, actor = _roles_of(row.roles), f"token:{row.name}"
    return Principal(
        agency_id=agency.id,
        organ_id=agency.organ_id,
        roles=roles,
        actor=audit.Actor(name=actor, origin=origin),
        user_id=row.user_id,
        token_id=row.id,
        username=actor.removeprefix("user:") if row.user_id is not None else None,
    )


# -- login ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginPolicy:
    max_failures: int = 5
    """Attempts allowed per (account name, address) and per address within ``window``."""
    window: timedelta = timedelta(minutes=15)
    name_factor: int = 20
    """The ceiling per account name, from all addresses together, is this many times
    ``max_failures``: it bounds a guess spread over many addresses without letting a few
    wrong guesses lock the user out."""
    trusted_for: timedelta = timedelta(days=30)
    """How long an address the user logged in from still gets in when the name's ceiling
    is reached."""
    session_lifetime: timedelta = timedelta(hours=8)

    @property
    def name_ceiling(self) -> int:
        return self.max_failures * self.name_factor


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    token: str
    expires_at: datetime
    username: str
    organ_id: str
    roles: tuple[str, ...]


async def _locked_counter(session: AsyncSession, key: str, now: datetime) -> LoginThrottle:
    # create the counter if it is new, without failing when a parallel attempt does too;
    # again if a parallel prune deleted it (expired) between the insert and the lock
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    for _ in range(3):
        await session.execute(
            insert(LoginThrottle)
            .values(key=key, failures=0, window_start=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        row = await session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
        if row is not None:
            return row
    raise RuntimeError("login counter vanished")  # pragma: no cover - inserted just above


PRUNE_BATCH = 200
"""Expired login counters deleted at most per login (a login adds at most four rows)."""


async def _prune_expired(session: AsyncSession, policy: LoginPolicy, now: datetime) -> None:
    """Delete up to :data:`PRUNE_BATCH` counters whose window is over, and remembered
    addresses older than ``trusted_for``. A missing counter counts as an expired one does
    (the next attempt starts it again at zero), so throttling is unchanged. Rows a parallel
    login holds are skipped, so this waits on no lock (run it last in its transaction)."""
    trusted = LoginThrottle.key.startswith(_TRUSTED, autoescape=True)
    expired = or_(
        and_(~trusted, LoginThrottle.window_start <= now - policy.window),
        and_(trusted, LoginThrottle.window_start <= now - policy.trusted_for),
    )
    keys = (
        select(LoginThrottle.key)
        .where(expired)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    await session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.key.in_(keys))
        .execution_options(synchronize_session=False)
    )


_TRUSTED = "ok:"  # the key prefix of remembered addresses (kept ``trusted_for``)


@dataclass(frozen=True, slots=True)
class _Keys:
    pair: str
    address: str
    name: str
    trusted: str


def _keys(name: str, origin: str) -> _Keys:
    return _Keys(
        pair=f"pair:{name}|{origin}",
        address=f"addr:{origin}",
        name=f"user:{name}",
        trusted=f"{_TRUSTED}{name}|{origin}",
    )


async def _count_attempt(
    session: AsyncSession, keys: _Keys, policy: LoginPolicy, now: datetime
) -> bool:
    """Count one attempt on each counter, or on none if any is over its limit (False)."""
    limits = {
        keys.pair: policy.max_failures,
        keys.address: policy.max_failures,
        keys.name: policy.name_ceiling,
    }
    rows: dict[str, LoginThrottle] = {}
    # always lock in one order, so that two attempts sharing counters cannot deadlock
    for key in sorted(limits):
        row = await _locked_counter(session, key, now)
        if now - row.window_start >= policy.window:
            row.failures, row.window_start = 0, now
        rows[key] = row
    if any(rows[key].failures >= limits[key] for key in (keys.pair, keys.address)):
        return False
    if rows[keys.name].failures >= limits[keys.name]:
        trusted = await session.get(LoginThrottle, keys.trusted)
        if trusted is None or now - trusted.window_start >= policy.trusted_for:
            return False
    for row in rows.values():
        row.failures += 1
    await session.flush()
    return True


async def login(
    factory: async_sessionmaker[AsyncSession],
    *,
    username: str,
    password: str,
    origin: str,
    policy: LoginPolicy,
) -> Session:
    """A session token for a correct name and password (three short transactions: count the
    attempt, check the password outside any transaction, then record the outcome)."""
    name = username.strip().lower()[:64]
    keys = _keys(name, origin)
    now = datetime.now(UTC)
    async with transaction(factory) as session:
        allowed = await _count_attempt(session, keys, policy, now)
        user = await session.scalar(select(User).where(User.username == name)) if allowed else None
        if not allowed:
            await audit.record(
                session,
                actor=audit.Actor(name=f"user:{name}", origin=origin),
                action="login.throttled",
                agency=None,
            )
    if not allowed:
        raise TooManyAttempts(
            "Too many failed logins: wait a while and try again.",
            "Đăng nhập sai quá nhiều lần: hãy đợi một lúc rồi thử lại.",
        )
    ok = await asyncio.to_thread(
        _password_matches, user.password_hash if user else _dummy_hash(), password
    )
    usable = ok and user is not None and user.disabled_at is None
    async with transaction(factory) as session:
        actor = audit.Actor(name=f"user:{name}", origin=origin)
        if not usable or user is None:
            await audit.record(session, actor=actor, action="login.failed", agency=None)
            result = None
        else:
            agency = await session.get(Agency, user.agency_id)
            if agency is None or not agency.hosted:
                raise unauthenticated()
            # a success forgets the failures of this name from this address (the address
            # and the name keep theirs) and remembers the address as one the user uses; and
            # this attempt, counted before the password was known, was no failure (an office
            # whose clerks all log in from one address is not throttled by their logins).
            # Counters are locked in the one order every login uses (no deadlock).
            for key in sorted((keys.address, keys.name, keys.pair, keys.trusted)):
                if key == keys.trusted:
                    trusted = await _locked_counter(session, key, now)
                    trusted.window_start = now
                    continue
                counter = await session.get(LoginThrottle, key, with_for_update=True)
                if counter is None:
                    continue
                if key == keys.pair:
                    counter.failures = 0
                elif counter.failures > 0:
                    counter.failures -= 1
            expires = now + policy.session_lifetime
            token_row, secret = await _new_token(
                session,
                kind="session",
                agency_id=agency.id,
                user_id=user.id,
                name="login",
                roles="",
                expires_at=expires,
            )
            await audit.record(
                session,
                actor=actor,
                action="login",
                agency=agency.organ_id,
                details={"token": token_row.public_id},
            )
            result = Session(
                token=secret,
                expires_at=expires,
                username=user.username,
                organ_id=agency.organ_id,
                roles=tuple(sorted(user.roles.split())),
            )
        await _prune_expired(session, policy, now)
    if result is None:
        raise unauthenticated()
    return result


def _password_matches(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


async def logout(session: AsyncSession, principal: Principal) -> None:
    if principal.token_id is None:
        return
    row = await session.get(ApiToken, principal.token_id)
    if row is not None and row.kind == "session" and row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await audit.record(
            session, actor=principal.actor, action="logout", agency=principal.organ_id
        )
