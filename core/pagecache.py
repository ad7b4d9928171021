"""Pages kept for the person who asked until anything they could see changes (页面缓存).

A list or home page of a district with 100,000 pupils takes tens of milliseconds to build, and people
come back to the same page: the back button, a status tab and back, the next page and back, the home
page after every errand. Such a page is kept (`kept_page`) under a key made of

- who asks: the user, the session (its key and what it holds), the CSRF cookie the page's forms carry;
- what they ask: the path with its query string, the htmx request headers, the language, the day;
- two generations: the tenant's, and the platform's (writes outside any tenant: users, tenants, roles).

Every statement that writes to the database moves a generation on (`_watch`, installed on every
connection): the tenant's when a tenant is set, else the platform's. It moves once when the statement
runs, so the same transaction's next page is built afresh, and once more when the transaction commits,
so a page built between the two from the rows as they were before the commit is never read again. So a
kept page is never older than the last write its reader could see. What changes with the clock alone
(a publicity period that ends at noon) is at most `PAGE_CACHE_SECONDS` old.

A generation is a random token, not a counter: a generation evicted from the cache starts again at a
value no kept page was ever stored under.

Not kept: pages with a message to show (it is shown once), responses other than 200 HTML, requests
without a tenant (a region's oversight pages read many tenants) or without the CSRF cookie (the page
would set it). Writes to `QUIET_TABLES` (a session's "last used", the beat's schedule) move nothing:
no kept page shows them, and they happen on every request or every few seconds.

Only on when the cache is shared by every process that serves or writes (`PAGE_CACHE`, on with Redis):
a per-process cache would not see another process's writes.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
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
    }
)
#: Session entries that change on every request and change nothing on a page (the idle clock).
QUIET_SESSION_KEYS = frozenset({"door.seen"})  # schools.door.services.SESSION_SEEN

PLATFORM = "platform"
_WRITE = re.compile(r"^\s*(?:INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY)\b", re.IGNORECASE)
_CTE_WRITE = re.compile(r"\b(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_TABLE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
#: Pages of this process only: a new deploy (new templates, new code) never reads an older one's pages.
_PROCESS = uuid.uuid4().hex


def enabled() -> bool:
    return bool(getattr(settings, "PAGE_CACHE", False))


def _generation_key(scope: Any) -> str:
    return f"pagegen:{scope}"


def writes(sql: str) -> bool:
    """Whether a statement may change rows (a `WITH` counts if any of its parts writes)."""
    if _WRITE.match(sql):
        return True
    return sql.lstrip()[:4].upper() == "WITH" and _CTE_WRITE.search(sql) is not None


def changed(connection: Any) -> None:
    """Move the generation of what `connection` just wrote on (the current tenant's, or the platform's
    outside any tenant), now and again when its open transaction commits. `connection` is the one that
    ran the statement, which may be one Django keeps outside `connections` (the test database's
    creation)."""
    key = _generation_key(current_tenant_id_or_none() or PLATFORM)
    _move(key)
    if connection.in_atomic_block:
        again = _MoveAgain(key)
        # One callback per generation and transaction, however many statements write.
        if not any(func == again for _sids, func, *_rest in connection.run_on_commit):
            connection.on_commit(again)


def _move(key: str) -> None:
    cache.set(key, uuid.uuid4().hex, None)


class _MoveAgain:
    """The commit-time move of one generation; equal to another for the same generation (deduplicated)."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self) -> None:
        _move(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _MoveAgain) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


def _watch(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    result = execute(sql, params, many, context)
    if enabled() and writes(sql):
        table = _TABLE.match(sql)
        if table is None or table.group(1) not in QUIET_TABLES:
            changed(context["connection"])
    return result


def watch_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On every new connection: watch its statements. First in the list, so a test's own
    `execute_wrapper` (appended, then popped as the last) never takes this one out."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _watch)


def _generations(tenant_id: Any) -> tuple[str, str]:
    keys = [_generation_key(tenant_id), _generation_key(PLATFORM)]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, uuid.uuid4().hex, None)
            found[key] = cache.get(key) or ""
    return found[keys[0]], found[keys[1]]


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


def _read(key: str) -> bytes | None:
    sealed = cache.get(key)
    if sealed is None:
        return None
    try:
        return decrypt_bytes(sealed, context=key)
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
        content = _read(key)
        if content is not None:
            response = HttpResponse(content, content_type="text/html; charset=utf-8")
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.streaming
            and getattr(response, "is_rendered", True)
            and response.get("Content-Type", "") == "text/html; charset=utf-8"
            and not response.cookies
        ):
            # Sealed with the field-encryption key, bound to its key: a page holds pupils' names and
            # tiers, and a cache's dump or replica is no place for them in clear; nor can a page be
            # moved under another reader's key.
            cache.set(key, encrypt_bytes(response.content, context=key), settings.PAGE_CACHE_SECONDS)
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper
