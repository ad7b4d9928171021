"""Reading, checking and preparing a roster's rows: in this process, or in a second one beside it.

The import's work per row is half Python (reading, validation, encryption, blind indexes, audit values)
and half PostgreSQL (indexes, keys, the audit rows). Done in turn, on two cores, one of them idles
most of the time. So a large roster's rows are read, validated and prepared in a second process while
this one writes the chunk before (docs/benchmarks.md, "Roster import").

The second process never touches the database. What it prepares for a pupil who was not registered
when the import began (ids, ciphertexts, blind indexes, the audit row's values) is only a proposal:
the chunk's own transaction still decides, as it always did, whether the pupil is new, and computes
anything it needs that was not prepared. Small rosters (every test but one) run the same steps here,
without preparing ahead.
"""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import translation

#: The settings a prepared row depends on: the second process starts from the same settings module
#: and is given these values, so that a test's overrides (and a rotation of keys) apply there too.
_SHARED_SETTINGS = ("SECRET_KEY", "DEBUG", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "AUDIT_HMAC_KEY")


@dataclass
class Chunk:
    """Validated rows of one chunk (`RowReport`s, the valid ones maybe with a prepared new pupil)."""

    reports: list[Any]
    done: int  # rows of the sheet read so far
    total: int  # rows of the sheet


@dataclass
class Plan:
    """Everything reading and preparing needs, plain data only (it travels to the second process)."""

    path: str
    inspection: Any  # reader.Inspection
    ctx: Any  # validate.RosterContext (without the duplicates: found while reading)
    chunk_size: int
    tenant_id: uuid.UUID
    reason: str
    #: ID numbers' blind indexes registered when the import began; None: prepare nothing ahead
    known: frozenset[str] | None = None


def chunks(plan: Plan, *, parallel: bool, timings: dict[str, float]) -> Iterator[Chunk]:
    """The roster's rows, validated, a chunk at a time. Raises RosterFileError if the sheet cannot
    be read. With `parallel`, the work runs in a second process, a chunk ahead of the caller."""
    with _gc_paused():
        yield from (_beside(plan, timings) if parallel else _produce(plan, timings))


# --- The work itself, wherever it runs -----------------------------------------------------------------


def _produce(plan: Plan, timings: dict[str, float]) -> Iterator[Chunk]:
    from . import reader
    from .apply import ApplyContext, prepare_new_pupil
    from .validate import validate_row

    with _clock(timings, "open"):
        sheet = reader.open_roster(plan.path, plan.inspection)
    ctx = plan.ctx
    with _clock(timings, "prescan"):
        ctx.duplicate_ids, ctx.duplicate_nos = duplicates(sheet)
    ahead = None
    if plan.known is not None:
        ahead = ApplyContext(
            tenant_id=plan.tenant_id, reason=plan.reason, school_names={}, nameable=None, today=ctx.today
        )
    known = plan.known or frozenset()
    batch: list[Any] = []
    started = time.perf_counter()
    for number, cells in sheet.rows():
        report = validate_row(number, cells, sheet.columns, ctx)
        if ahead is not None and report.clean is not None and report.clean.id_hash not in known:
            # A new pupil, prepared whole: sent as a tuple of text (see _compact).
            report = _compact(report, prepare_new_pupil(report.clean, ahead, for_copy=True))
        batch.append(report)
        if len(batch) >= plan.chunk_size:
            timings["validate"] = timings.get("validate", 0) + time.perf_counter() - started
            yield Chunk(batch, number - sheet.header_row, sheet.total)
            batch = []
            started = time.perf_counter()
    timings["validate"] = timings.get("validate", 0) + time.perf_counter() - started
    yield Chunk(batch, sheet.total, sheet.total)


def _compact(report: Any, new: Any) -> tuple[Any, ...]:
    """A valid row prepared as a new pupil, as plain data: pickling dataclasses (the row's report,
    clean row, guardians) costs more than preparing them. The importer needs no more than this: if
    the pupil was registered meanwhile, the row is reported as changed meanwhile (see apply)."""
    return (
        report.row, report.name, report.id_text, new.id, new.no_hash, new.row, new.guardian_rows, new.audit,
        new.id_hash, new.fingerprint,
    )  # fmt: skip


def _expand(item: Any) -> Any:
    """A report as _compact sent it (or as it was, if it was not a new pupil)."""
    from .apply import NewPupil
    from .validate import RowReport

    if item.__class__ is not tuple:
        return item
    row, name, id_text, *prepared = item
    return RowReport(row=row, name=name, id_text=id_text, errors=[], prepared=NewPupil(*prepared))


def duplicates(sheet: Any) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """ID numbers and registration numbers found on more than one row (→ their rows): none of those
    rows can be imported, since nobody can tell which one is right."""
    from .validate import prescan_key

    found: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
    indexes = (sheet.columns["id_number"], sheet.columns.get("student_no"))
    for number, cells in sheet.rows():
        for seen, index in zip(found, indexes, strict=True):
            if index is not None and index < len(cells):
                key = prescan_key(cells[index])
                if key:
                    seen.setdefault(key, []).append(number)
    return tuple({k: rows for k, rows in seen.items() if len(rows) > 1} for seen in found)  # type: ignore[return-value]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """An import allocates millions of short-lived objects without reference cycles (freed as each
    chunk is replaced); the cyclic collector would walk them again and again for nothing (about 10% of
    the time). It is back on as soon as the rows are read, however that ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _clock(timings: dict[str, float], phase: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0) + time.perf_counter() - started


# --- The second process --------------------------------------------------------------------------------


def _beside(plan: Plan, timings: dict[str, float]) -> Iterator[Chunk]:
    from .problems import FileProblem, RosterFileError

    # A fresh interpreter (`python -m students.roster.pipeline`), not multiprocessing: a Celery worker's
    # pool process may not have children of its own, and a fork would copy this process's database
    # connection and whatever locks its other threads hold. The messages are pickles, one after another,
    # on the child's stdout.
    child = subprocess.Popen(  # noqa: S603 (this interpreter, this module)
        [sys.executable, "-m", __name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=settings.BASE_DIR,
    )
    try:
        shared = {name: getattr(settings, name) for name in _SHARED_SETTINGS}
        # The plan goes pickled inside: its classes can only be loaded once Django is set up there.
        setup = (pickle.dumps(plan, pickle.HIGHEST_PROTOCOL), shared, translation.get_language())
        child.stdin.write(pickle.dumps(setup, pickle.HIGHEST_PROTOCOL))  # type: ignore[union-attr]
        child.stdin.close()  # type: ignore[union-attr]
        while True:
            try:
                kind, payload, child_timings = pickle.load(child.stdout)  # noqa: S301 (our own child)
            except (EOFError, OSError, pickle.UnpicklingError):  # it died, maybe half-way through a chunk
                raise RuntimeError(
                    f"the roster reader stopped unexpectedly (exit code {child.wait(timeout=10)})"
                ) from None
            timings.update(child_timings)
            if kind == "chunk":
                payload.reports = [_expand(item) for item in payload.reports]
                yield payload
            elif kind == "end":
                return
            elif kind == "file_error":
                problem, params = payload
                raise RosterFileError(FileProblem(problem), **params)
            else:
                raise RuntimeError(f"the roster reader failed:\n{payload}")
    finally:
        child.stdout.close()  # type: ignore[union-attr]
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)


def _run_beside() -> None:
    """The second process: set up Django as the first one has it, then send chunks until the end."""
    # stdout carries the messages; anything printed by accident goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    pickled_plan, shared, language = pickle.load(sys.stdin.buffer)  # noqa: S301 (from our parent)

    import django

    django.setup()
    for name, value in shared.items():
        setattr(settings, name, value)
    from .problems import RosterFileError

    plan = pickle.loads(pickled_plan)  # noqa: S301

    def send(*message: Any) -> None:
        pickle.dump(message, out, pickle.HIGHEST_PROTOCOL)
        out.flush()

    timings: dict[str, float] = {}
    try:
        with translation.override(language):
            for chunk in _produce(plan, timings):
                send("chunk", chunk, timings)
        send("end", None, timings)
    except RosterFileError as exc:
        send("file_error", (exc.problem.value, exc.params), timings)
    except BrokenPipeError:
        pass  # the importer stopped listening (it failed, or was stopped): nothing left to do
    except BaseException:
        send("crash", traceback.format_exc(), timings)


def uses_second_process(rows: int) -> bool:
    """Whether a roster of this many rows is read beside the import (settings.ROSTER_PARALLEL_ROWS).
    On PostgreSQL only: rows come prepared for its COPY, and SQLite (one writer, in the same
    process) is the development database."""
    threshold = settings.ROSTER_PARALLEL_ROWS
    return connection.vendor == "postgresql" and threshold > 0 and rows >= threshold


if __name__ == "__main__":
    # Through the module's own name, so that what the child pickles (Chunk) is found by the parent.
    from students.roster.pipeline import _run_beside as run

    run()
