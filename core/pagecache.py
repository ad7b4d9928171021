"""Pages kept for the person who asked until anything they could see changes (页面缓存).

A list or home page of a district with 100,000 pupils takes tens of milliseconds to build, and people
come back to the same page: the back button, a status tab and back, the next page and back, the home
page after every errand. Such a page is kept (`kept_page`) under a key made of

- who asks: the user, the session (its key and what it holds), the CSRF cookie the page's forms carry;
- what they ask: the path with its query string, the htmx request headers, the language, the day;
- two generations: the tenant's, and the platform's (writes outside any tenant: users, tenants, roles).

Beside the page its **reads** are kept: the generation, at the time the page was built, of each table
its statements named (`tables_in`), in its tenant. The page is served only while every one of them is
still current, so a page depends on what it read, not on everything in the district: a teacher's
attendance record leaves the ledger kept, a stopped award does not.

Every statement that writes to the database moves generations on (`_watch`, installed on every
connection): inside a tenant, that tenant's generation of each table the statement names (of the whole
tenant when it names none the models know); outside any tenant, the platform's, which every page holds.
They move once when the statement runs, so the same transaction's next page is built afresh, and once
more when the transaction commits, so a page built between the two from the rows as they were before
the commit is never read again. A table's generation is read before the statement that reads its rows
(the watcher sees the statement first), so a page is never stored under a generation newer than its
rows. So a kept page is never older than the last write to what it read that its reader could see. What
changes with the clock alone (a publicity period that ends at noon) is at most `PAGE_CACHE_SECONDS` old.

A generation is a random token, not a counter: a generation evicted from the cache starts again at a
value no kept page was ever stored under.

Not kept: pages with a message to show (it is shown once), responses other than 200 HTML, requests
without a tenant (a region's oversight pages read many tenants) or without the CSRF cookie (the page
would set it). Writes to `QUIET_TABLES` (a session's "last used", the beat's schedule, the lockout
counts) and a user's last sign-in move nothing: no kept page shows them, and they happen on every
request, every few seconds or at every sign-in.

Only on when the cache is shared by every process that serves or writes (`PAGE_CACHE`, on with Redis):
a per-process cache would not see another process's writes.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from . import clock
from .crypto import DecryptionError, decrypt_bytes, encrypt_bytes
from .tenancy.context import current_tenant_id_or_none

#: Tables written as a side effect of reading pages or of the clock, shown by no kept page.
QUIET_TABLES = frozenset(
    {
        "django_session",
        "schools_signin",
        "django_celery_beat_periodictask",
        "django_celery_beat_periodictasks",
        "django_celery_beat_crontabschedule",
        "django_celery_beat_intervalschedule",
        "django_celery_beat_clockedschedule",
        "django_celery_beat_solarschedule",
        # The lockout counts (django-axes): written at every sign-in (a success clears them), read only by
        # the account security page, which is not kept.
        "axes_accessattempt",
        "axes_accessattemptexpiration",
        "axes_accessfailurelog",
        "axes_accesslog",
    }
)
#: Writes that are bookkeeping of a sign-in, shown by no kept page: the user's last sign-in (Django's
#: `update_last_login`). Outside any district they would move the platform's generation, and so every
#: kept page of every district, at each of the morning's thousands of sign-ins.
_QUIET_STATEMENT = re.compile(r'^UPDATE "schools_user" SET "last_login" = %s WHERE "schools_user"\."id" = %s$')
#: Read by every page before its view runs (the person, their roles, their district): every kept page
#: depends on them, whatever its own statements name.
ALWAYS_READ = frozenset({"schools_user", "schools_roleassignment", "schools_tenant"})
#: Session entries that change on every request and change nothing on a page (the idle clock).
QUIET_SESSION_KEYS = frozenset({"door.seen"})  # schools.door.services.SESSION_SEEN

PLATFORM = "platform"
_WRITE = re.compile(r"^\s*(?:INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY)\b", re.IGNORECASE)
_CTE_WRITE = re.compile(r"\b(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
#: Pages of this process only: a new deploy (new templates, new code) never reads an older one's pages.
_PROCESS = uuid.uuid4().hex


def enabled() -> bool:
    return bool(getattr(settings, "PAGE_CACHE", False))


def _generation_key(scope: Any, table: str = "") -> str:
    """The whole scope's generation (a tenant's, the platform's), or one table's in a tenant."""
    return f"pagegen:{scope}:{table}" if table else f"pagegen:{scope}"


@functools.cache
def _model_tables() -> frozenset[str]:
    from django.apps import apps

    return frozenset(model._meta.db_table for model in apps.get_models(include_auto_created=True))


#: Statements longer than this are read each time rather than remembered: a bulk INSERT of a thousand
#: rows is a text of some 100 KB, and thousands of such texts would hold hundreds of MB in a worker.
_REMEMBERED_TEXT = 8_192


def tables_in(sql: str) -> frozenset[str]:
    """The models' tables a statement names, wherever it names them (FROM, JOIN, a subquery, INSERT
    INTO, a CTE): every identifier that is a table's name counts, which can only count too many. The
    ORM repeats its statements' text, so each short text is read once."""
    return _tables_in_remembered(sql) if len(sql) <= _REMEMBERED_TEXT else _tables_named(sql)


def _tables_named(sql: str) -> frozenset[str]:
    return frozenset(_IDENTIFIER.findall(sql.lower())) & _model_tables()


_tables_in_remembered = functools.lru_cache(maxsize=4096)(_tables_named)


def writes(sql: str) -> bool:
    """Whether a statement may change rows (a `WITH` counts if any of its parts writes)."""
    if _WRITE.match(sql):
        return True
    return sql.lstrip()[:4].upper() == "WITH" and _CTE_WRITE.search(sql) is not None


def changed(connection: Any, tables: Iterable[str] = ()) -> None:
    """Move on the generations of what `connection` just wrote, now and again when its open transaction
    commits: inside a tenant, that tenant's generation of each of `tables` (of the whole tenant when
    there are none); outside any tenant, the platform's. `connection` is the one that ran the statement,
    which may be one Django keeps outside `connections` (the test database's creation)."""
    tenant_id = current_tenant_id_or_none()
    if tenant_id is None:
        keys = frozenset({_generation_key(PLATFORM)})
    else:
        keys = frozenset(_generation_key(tenant_id, t) for t in tables) or frozenset({_generation_key(tenant_id)})
    _move(keys)
    if connection.in_atomic_block:
        again = _MoveAgain(keys)
        # One callback per set of generations and transaction, however many statements write.
        if not any(func == again for _sids, func, *_rest in connection.run_on_commit):
            connection.on_commit(again)


def _move(keys: frozenset[str]) -> None:
    cache.set_many({key: uuid.uuid4().hex for key in keys}, None)


class _MoveAgain:
    """The commit-time move of some generations; equal to another for the same ones (deduplicated)."""

    __slots__ = ("keys",)

    def __init__(self, keys: frozenset[str]) -> None:
        self.keys = keys

    def __call__(self) -> None:
        _move(self.keys)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _MoveAgain) and other.keys == self.keys

    def __hash__(self) -> int:
        return hash(self.keys)


class _Reads:
    """What a page being built has read: its tenant, and each table's generation before the page's
    first statement that named it."""

    __slots__ = ("generations", "tenant_id")

    def __init__(self, tenant_id: Any) -> None:
        self.tenant_id = tenant_id
        self.generations: dict[str, str] = {}

    def note(self, tables: Iterable[str]) -> None:
        new = [t for t in tables if t not in self.generations and t not in QUIET_TABLES]
        if new:
            keys = [_generation_key(self.tenant_id, t) for t in new]
            self.generations.update(zip(new, _current(keys), strict=True))


#: The page being built in this context, if any (`kept_page`).
_reading: ContextVar[_Reads | None] = ContextVar("pagecache_reading", default=None)


def _current(keys: list[str]) -> list[str]:
    """The generations under `keys`, each started (at a random token) if the cache has none."""
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, uuid.uuid4().hex, None)
            found[key] = cache.get(key) or ""
    return [found[key] for key in keys]


def _watch(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    if not enabled():
        return execute(sql, params, many, context)
    tables = tables_in(sql)
    reads = _reading.get()
    if reads is not None:
        reads.note(tables)  # before the statement reads the rows
    result = execute(sql, params, many, context)
    if writes(sql) and not (tables and tables <= QUIET_TABLES) and not _QUIET_STATEMENT.match(sql):
        changed(context["connection"], tables - QUIET_TABLES)
    return result


def watch_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On every new connection: watch its statements. First in the list, so a test's own
    `execute_wrapper` (appended, then popped as the last) never takes this one out."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _watch)


def _generations(tenant_id: Any) -> tuple[str, str]:
    """The tenant's whole generation and the platform's (part of every page's key)."""
    tenant, platform = _current([_generation_key(tenant_id), _generation_key(PLATFORM)])
    return tenant, platform


def page_key(request: HttpRequest) -> str | None:
    """The key of `request`'s page, or None when it is not to be kept."""
    if not enabled() or request.method != "GET":
        return None
    user = request.user
    tenant_id = getattr(request, "tenant_id", None)
    csrf = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    if not user.is_authenticated or tenant_id is None or not csrf or len(get_messages(request)):
        return None
    session = request.session
    held = sorted((k, repr(v)) for k, v in session.items() if k not in QUIET_SESSION_KEYS)
    # Read before the page's rows: a write committed after this read moves the generation on, so a page
    # built from the rows before it is stored under a generation nobody reads again.
    tenant_generation, platform_generation = _generations(tenant_id)
    parts = (
        _PROCESS,
        tenant_generation,
        platform_generation,
        str(user.pk),
        session.session_key or "",
        repr(held),
        csrf,
        request.get_full_path(),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
        request.headers.get("HX-Trigger", ""),
        translation.get_language() or "",
        clock.today().isoformat(),
    )
    return "page:" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=20).hexdigest()


def _seal_context(key: str, generations: dict[str, str]) -> str:
    return key + "\x1f" + "\x1f".join(f"{t}={g}" for t, g in sorted(generations.items()))


def _read(key: str, tenant_id: Any) -> bytes | None:
    """The page kept under `key`, if every table it read is still at the generation it was read at."""
    entry = cache.get(key)
    if not isinstance(entry, tuple) or len(entry) != 2:
        return None
    generations, sealed = entry
    tables = sorted(generations)
    if _current([_generation_key(tenant_id, t) for t in tables]) != [generations[t] for t in tables]:
        return None
    try:
        return decrypt_bytes(sealed, context=_seal_context(key, generations))
    except DecryptionError:  # a key retired since, or not a page this code wrote: built afresh
        return None


def kept_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Keep the view's page for the person who asked (see the module). Put it under `login_required`
    and above nothing that writes: a view that records a reading (a revealed ID number) is never kept."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = page_key(request)
        if key is None:
            return view(request, *args, **kwargs)
        tenant_id = request.tenant_id  # type: ignore[attr-defined]  # page_key kept only with a tenant
        content = _read(key, tenant_id)
        if content is not None:
            response = HttpResponse(content, content_type="text/html; charset=utf-8")
            response["X-Page-Cache"] = "hit"
            return response
        reads = _Reads(tenant_id)
        reads.note(ALWAYS_READ)
        token = _reading.set(reads)
        try:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()  # a template response's statements run while its page renders
        finally:
            _reading.reset(token)
        if (
            response.status_code == 200
            and not response.streaming
            and response.get("Content-Type", "") == "text/html; charset=utf-8"
            and not response.cookies
        ):
            # Sealed with the field-encryption key, bound to its key and to what it read: a page holds
            # pupils' names and tiers, and a cache's dump or replica is no place for them in clear; nor
            # can a page be moved under another reader's key, or given another page's reads.
            sealed = encrypt_bytes(response.content, context=_seal_context(key, reads.generations))
            cache.set(key, (reads.generations, sealed), settings.PAGE_CACHE_SECONDS)
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper
