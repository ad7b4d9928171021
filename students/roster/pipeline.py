"""Reading, checking, preparing and writing a roster's chunks: in this process, or in readers beside it.

The import's work per row is half Python (reading, validation, encryption, blind indexes, audit values)
and half PostgreSQL (indexes, keys, the audit rows). Done in turn, by one process and its connection,
one of two cores idles while the other works. So a large roster is imported by readers: processes of
their own (settings.ROSTER_READERS of them, taking the chunks in turn: reader 0 the first, reader 1 the
second, …) that each read, validate, prepare and write their chunks, on connections of their own, in a
transaction per chunk, while the importer only collects how each row ended, writes the row report and
shows the progress (docs/benchmarks.md, "Roster import"). Two readers keep both cores busy: while one
waits on PostgreSQL, the other prepares.

A reader writes a chunk exactly as the importer would (`apply.apply_chunk`), with one difference: the
pupils whose ID number and registration number nobody held when the import began are prepared whole
while reading (ids, ciphertexts, blind indexes, the audit row's JSON, COPY lines) and written without
a look-up; the chunk's INSERT … ON CONFLICT still has the last word (someone may have registered them
since). Each chunk is written whole or not at all; the chunks of different readers commit in whatever
order they finish, their audit rows appended one transaction at a time (the tenant's chain head).
Small rosters, and SQLite, run the same steps in this process without preparing ahead.
"""

from __future__ import annotations

import gc
import os
import pickle
import resource
import signal
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import translation

#: The settings a prepared row depends on: a reader starts from the same settings module
#: and is given these values, so that a test's overrides (and a rotation of keys) apply there too.
_SHARED_SETTINGS = ("SECRET_KEY", "DEBUG", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "AUDIT_HMAC_KEY")


@dataclass
class Chunk:
    """Validated rows of one chunk (`RowReport`s, the valid ones maybe with a prepared new pupil)."""

    reports: list[Any]
    done: int  # rows of the sheet read so far
    total: int  # rows of the sheet
    #: written already (by a reader, in its own transaction): the reports say how each row ended
    applied: bool = False


@dataclass
class Plan:
    """Everything reading and preparing needs, plain data only (it travels to the readers)."""

    path: str
    inspection: Any  # reader.Inspection
    ctx: Any  # validate.RosterContext (without the duplicates: found while reading)
    chunk_size: int
    tenant_id: uuid.UUID
    reason: str
    #: blind indexes of the ID numbers and of the registration numbers registered when the import
    #: began; None: prepare nothing ahead
    known_ids: frozenset[str] | None = None
    known_nos: frozenset[str] = frozenset()
    #: rows of the first chunk, if fewer than chunk_size: the importer waits for it, idle (see sizes)
    first_chunk: int | None = None
    #: read beside the import, each reader writes its own chunks: how (apply.ApplyContext), as whom
    #: (trail.Actor), and through which database (the importing connection's settings)
    apply: Any = None
    actor: Any = None
    database: dict[str, Any] | None = None


def sizes(chunk_size: int, first: int | None = None) -> Iterator[int]:
    """Rows of each chunk, in order. From a small first chunk (if the plan has one), each is half as
    large again as the one before, up to chunk_size: the importer waits only for the first, and each
    next one is ready about when the importer has written the one before (every reader counts the
    same way, so they agree on whose chunk is whose)."""
    size = first or chunk_size
    while True:
        yield size
        size = min(chunk_size, max(size + 1, size * 3 // 2))


def chunks(plan: Plan, *, beside: Beside | None, timings: dict[str, float]) -> Iterator[Chunk]:
    """The roster's rows, validated, a chunk at a time. Raises RosterFileError if the sheet cannot
    be read. With `beside` (see `Beside.start`), the work runs there, a chunk ahead of the caller."""
    with _gc_paused():
        yield from (beside.chunks(plan, timings) if beside is not None else _produce(plan, timings))


# --- The work itself, wherever it runs -----------------------------------------------------------------


def _produce(plan: Plan, timings: dict[str, float]) -> Iterator[Chunk]:
    """All the chunks, in this process."""
    sheet, (plan.ctx.duplicate_ids, plan.ctx.duplicate_nos) = _open(plan.path, plan.inspection, timings)
    yield from _share(sheet, plan, 0, 1, timings)


def _open(path: str, inspection: Any, timings: dict[str, float]) -> tuple[Any, tuple[dict, dict]]:
    """The opened sheet, and the ID numbers and registration numbers found on more than one row."""
    from . import reader

    with _clock(timings, "open"):
        sheet = reader.open_roster(path, inspection)
    with _clock(timings, "prescan"):
        found = duplicates(sheet)
    return sheet, found


def _share(sheet: Any, plan: Plan, place: int, readers: int, timings: dict[str, float]) -> Iterator[Chunk]:
    """The chunks numbered place, place + readers, … (counted the same way by every reader)."""
    from .apply import ApplyContext, prepare_new_pupil
    from .validate import validate_row

    ctx = plan.ctx
    ahead = None
    if plan.known_ids is not None:
        ahead = ApplyContext(
            tenant_id=plan.tenant_id, reason=plan.reason, school_names={}, nameable=None, today=ctx.today
        )
    known_ids, known_nos = plan.known_ids or frozenset(), plan.known_nos
    number_of_chunk = 0
    mine = place == 0
    batch: list[Any] = []
    rows_in_chunk = 0
    limits = sizes(plan.chunk_size, plan.first_chunk)
    limit = next(limits)
    started = time.perf_counter()
    for number, cells in sheet.rows():
        if mine:
            report = validate_row(number, cells, sheet.columns, ctx)
            if ahead is not None and report.clean is not None and report.clean.id_hash not in known_ids:
                # A new pupil, prepared whole (as COPY text: see apply.NewPupil). Unless the registration
                # number is someone's: the chunk's look-ups will say whose (rare, so prepared anyway).
                new = prepare_new_pupil(report.clean, ahead, for_copy=True)
                if new.no_hash is None or new.no_hash not in known_nos:
                    report.clean, report.prepared = None, new
            batch.append(report)
        rows_in_chunk += 1
        if rows_in_chunk >= limit:
            if mine:
                timings["validate"] = timings.get("validate", 0) + time.perf_counter() - started
                yield Chunk(batch, number - sheet.header_row, sheet.total)
                started = time.perf_counter()
            batch, rows_in_chunk, limit = [], 0, next(limits)
            number_of_chunk += 1
            mine = number_of_chunk % readers == place
    if mine and (rows_in_chunk or number_of_chunk == 0):  # the last chunk (empty only if the sheet is)
        timings["validate"] = timings.get("validate", 0) + time.perf_counter() - started
        yield Chunk(batch, sheet.total, sheet.total)


def _write(chunk: Chunk, plan: Plan, timings: dict[str, float]) -> None:
    """Write a chunk in a reader, in a transaction of its own (as the importer writes one), and keep
    of its reports only what the importer needs: how each row ended, and why."""
    from core.audit import trail
    from core.tenancy.context import tenant_transaction

    from .apply import apply_chunk

    with _clock(timings, "write"), trail.acting_as(plan.actor), tenant_transaction(plan.tenant_id):
        apply_chunk(chunk.reports, plan.apply)
    timings["audit"] = plan.apply.audit_seconds
    chunk.reports = [(r.row, r.name, r.id_text, r.outcome, r.note, r.errors) for r in chunk.reports]
    chunk.applied = True


def _outcomes(items: list[Any]) -> list[Any]:
    """A written chunk's reports as _write sent them."""
    from .validate import RowReport

    return [
        RowReport(row=row, name=name, id_text=id_text, errors=errors, outcome=outcome, note=note)
        for row, name, id_text, outcome, note, errors in items
    ]


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


# --- The readers ---------------------------------------------------------------------------------------


@contextmanager
def reader_beside(path: str | Path) -> Iterator[Beside | None]:
    """The readers for a roster that may need them (see Beside.start), stopped at the end."""
    beside = Beside.start(path)
    try:
        yield beside
    finally:
        if beside is not None:
            beside.close()


class Beside:
    """The readers. One process is started as soon as an import begins (`start`), so that Python and
    Django start up there while this process checks the file; told what to read once it is checked, it
    opens the sheet, finds the duplicates, and only then forks the other readers, which share what it
    parsed (calamine's sheet, about a tenth of the import's CPU if every reader parsed it again). Each
    reader connects to the database after the fork, on its first query: no two share a connection."""

    #: Bytes of a workbook per roster row, at least (a real roster has about 170): whether a file may
    #: hold ROSTER_PARALLEL_ROWS rows is guessed from its size before it is inspected.
    MIN_BYTES_PER_ROW = 60

    def __init__(self, process: subprocess.Popen, outputs: list[Any], descriptors: list[int]) -> None:
        self.process = process
        #: where each reader's messages arrive, by place: the first process's stdout, then a pipe each
        self.outputs = outputs
        #: the write ends of those pipes, as numbered in the first process (which forks the others)
        self.descriptors = descriptors
        #: every chunk received: the readers are exiting by themselves
        self.finished = False

    @classmethod
    def start(cls, path: str | Path) -> Beside | None:
        """The readers, if the file may be large enough for them (on PostgreSQL); else None."""
        threshold = settings.ROSTER_PARALLEL_ROWS
        if connection.vendor != "postgresql" or threshold <= 0:
            return None
        if Path(path).stat().st_size < threshold * cls.MIN_BYTES_PER_ROW:
            return None
        # A fresh interpreter (`python -m students.roster.pipeline`), not multiprocessing: a Celery
        # worker's pool process may not have children of its own, and a fork of this process would copy
        # its database connection and whatever locks its other threads hold. The reader process has
        # neither, so it may fork the others itself. The messages are pickles, one after another, on
        # each reader's pipe. Its own process group, so that close() stops the forked readers too.
        pipes = [os.pipe() for _ in range(max(1, settings.ROSTER_READERS) - 1)]
        try:
            process = subprocess.Popen(  # noqa: S603 (this interpreter, this module, an uploaded file's path)
                [sys.executable, "-m", __name__, str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=settings.BASE_DIR,
                pass_fds=[w for _r, w in pipes],
                process_group=0,
            )
        except BaseException:
            for r, _w in pipes:
                os.close(r)
            raise
        finally:
            for _r, w in pipes:
                os.close(w)  # the readers' ends: only they may hold them, so that a reader's death is an EOF here
        return cls(process, [process.stdout, *(os.fdopen(r, "rb") for r, _w in pipes)], [w for _r, w in pipes])

    def chunks(self, plan: Plan, timings: dict[str, float]) -> Iterator[Chunk]:
        """The chunks in order: the first from reader 0, the next from reader 1, and so on around."""
        shared = {name: getattr(settings, name) for name in _SHARED_SETTINGS}
        # The plan goes pickled inside: its classes can only be loaded once Django is set up there.
        setup = (pickle.dumps(plan, pickle.HIGHEST_PROTOCOL), shared, translation.get_language(), self.descriptors)
        try:
            self.process.stdin.write(pickle.dumps(setup, pickle.HIGHEST_PROTOCOL))  # type: ignore[union-attr]
            self.process.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass  # it died already: said when its turn comes
        readers = len(self.outputs)
        # What each reader reports of its time; the import's timings are their sums.
        reported: list[dict[str, float]] = [{} for _ in self.outputs]
        turn = 0
        while True:
            place = turn % readers
            waited = time.perf_counter()
            kind, payload = self._receive(place, reported)
            timings["wait"] = timings.get("wait", 0) + time.perf_counter() - waited
            if turn == 0:  # the first chunk: the sheet opened and the duplicates found first
                timings["first"] = timings["wait"]
            for key in {k for r in reported for k in r}:
                timings[key] = sum(r.get(key, 0) for r in reported)
            if kind == "chunk":
                payload.reports = _outcomes(payload.reports)
                yield payload
                turn += 1
            elif kind == "end":  # the reader whose turn it was has no more: the sheet is done
                self.finished = True
                return
            elif kind == "file_error":
                from .problems import FileProblem, RosterFileError

                problem, params = payload
                raise RosterFileError(FileProblem(problem), **params)
            else:
                raise RuntimeError(f"the roster reader failed:\n{payload}")

    def _receive(self, place: int, reported: list[dict[str, float]]) -> tuple[str, Any]:
        try:
            kind, payload, reported[place] = pickle.load(self.outputs[place])  # noqa: S301 (our own reader)
        except (EOFError, OSError, pickle.UnpicklingError):  # it died, maybe half-way through a chunk
            raise RuntimeError(f"the roster reader stopped unexpectedly (reader {place + 1})") from None
        return kind, payload

    def close(self) -> None:
        """Stop the readers (finished or not) and release their pipes."""
        for pipe in (self.process.stdin, *self.outputs):
            if pipe is not None and not pipe.closed:
                with suppress(OSError):  # a broken pipe: the reader is gone
                    pipe.close()
        # Finished, the first reader exits once the others have (it waits for them, so their CPU time is
        # counted in this process's children's); else (a bad file, while it may still be parsing it; a
        # failed import) it is stopped with them at once, the whole group. It is reaped only after that:
        # until then its pid, which names the group, cannot be reused.
        if self.finished:
            self._await_exit(timeout=1)
        if self.process.returncode is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def _await_exit(self, *, timeout: float) -> None:
        """Wait up to `timeout` seconds for the first reader to exit, without reaping it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                    return
            except ChildProcessError:
                return  # reaped already
            time.sleep(0.01)


#: The readers' address space, at most: a 200,000-row roster parses into about 800 MB. Reached only by a
#: file made to blow up, which the importer's checks refuse meanwhile (the reader dies trying).
READER_MEMORY = 3 * 1024**3


def _run_beside(path: str) -> None:
    """The first reader: set up Django, open the sheet and find its duplicates while the importer
    checks the file, take the plan, fork the others; each writes its chunks (if the plan says how) and
    sends their outcomes, until the end."""
    # stdout carries the messages; anything printed by accident goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    resource.setrlimit(resource.RLIMIT_AS, (READER_MEMORY, READER_MEMORY))
    import django

    django.setup()
    from . import reader
    from .problems import RosterFileError

    # Parsed before the importer's checks have passed (reader.peek: only those that take no time), so
    # that the two overlap; what went wrong is said only once the plan says the file passed them.
    timings: dict[str, float] = {}
    opened, failed = None, None
    try:
        with _gc_paused():
            opened = _open(path, reader.peek(path), timings)
    except RosterFileError as exc:
        failed = ("file_error", (exc.problem.value, exc.params))
    except Exception:
        failed = ("crash", traceback.format_exc())
    try:
        pickled_plan, shared, language, descriptors = pickle.load(sys.stdin.buffer)  # noqa: S301 (from our parent)
    except EOFError:
        return  # not needed after all (a small roster, or a bad file)
    for name, value in shared.items():
        setattr(settings, name, value)

    plan = pickle.loads(pickled_plan)  # noqa: S301
    if plan.database is not None:
        # The importer's database, as it connects (a test's database, its role): each reader connects
        # on its first query, after the fork, so that no two processes share a connection.
        connection.settings_dict.update(plan.database)
    outputs = [out, *(os.fdopen(fd, "wb") for fd in descriptors)]
    place, forked = 0, []

    def send(*message: Any) -> None:
        pickle.dump(message, outputs[place], pickle.HIGHEST_PROTOCOL)
        outputs[place].flush()

    if opened is None:
        with suppress(OSError):
            send(*failed, timings)  # type: ignore[misc]
        return
    sheet, (plan.ctx.duplicate_ids, plan.ctx.duplicate_nos) = opened
    try:
        with translation.override(language), _gc_paused():
            place, forked = _fork(len(outputs))
            if place:
                timings = {}  # the opening is the first reader's to report
            for index, output in enumerate(outputs):
                if index != place:
                    output.close()  # each pipe's writer is its reader alone: its death is an EOF there
            for chunk in _share(sheet, plan, place, len(outputs), timings):
                if plan.apply is not None:
                    _write(chunk, plan, timings)
                send("chunk", chunk, timings)
        send("end", None, timings)
    except BrokenPipeError:
        pass  # the importer stopped listening (it failed, or was stopped): nothing left to do
    except BaseException:
        with suppress(OSError):
            send("crash", traceback.format_exc(), timings)
    finally:
        connection.close()
        if place:
            os._exit(0)  # a forked reader: nothing of the first one's to clean up
        for pid in forked:
            os.waitpid(pid, 0)


def _fork(readers: int) -> tuple[int, list[int]]:
    """Fork the readers after the first: (this process's place, the pids it forked)."""
    sys.stdout.flush()
    sys.stderr.flush()
    forked = []
    for place in range(1, readers):
        pid = os.fork()
        if pid == 0:
            return place, []
        forked.append(pid)
    return 0, forked


def connection_settings() -> dict[str, Any]:
    """How this process connects to the database, for a reader to connect the same way."""
    return {k: connection.settings_dict.get(k) for k in ("NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")}


def uses_readers(rows: int) -> bool:
    """Whether a roster of this many rows is imported by readers (settings.ROSTER_PARALLEL_ROWS).
    On PostgreSQL only (see Beside.start): rows come prepared for its COPY, and SQLite (one writer at
    a time) is the development database."""
    threshold = settings.ROSTER_PARALLEL_ROWS
    return threshold > 0 and rows >= threshold


if __name__ == "__main__":
    # Through the module's own name, so that what the child pickles (Chunk) is found by the parent.
    from students.roster.pipeline import _run_beside as run

    run(sys.argv[1])
