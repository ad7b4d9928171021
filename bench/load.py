"""Benchmark: the list pages under load, with 100,000 pupils in district demo-a, and side by side the same
pages served by an earlier revision of the code (the obvious way: the page as it was) in the same run.

    .venv/bin/python bench/load.py                 # --students 100000 --awards 20000 --clients 20
                                                   # --seconds 15 --compare main

A fresh PostgreSQL database (migrated as the owner, used as the app role) is seeded with
`seed_demo --scale 0.05`, then set-based with --students pupils of demo-a (encrypted, blind-indexed
numbers; guardians, identified applications for a third, a semester, --awards approved awards, a
released batch: `bench.reconcile`'s seeding), then VACUUM ANALYZEd. Two gunicorns (2 workers, 1 thread each,
127.0.0.1 only) serve it: this worktree's code and, with --compare REV, that revision's (`git archive`
into a temporary directory). Signed in through the login form, --clients threads each
with its own keep-alive `http.client` connection request one URL for --seconds (at most --max-requests
requests in all); the two servers take turns URL by URL. Reported per URL and server: requests/s, p50,
p95, p99, errors, and the CPU seconds the gunicorn workers and the PostgreSQL backends spent.

A URL is "user:/path/" (signed in as that demo account) or "/path/" (as a.district); /healthz is
asked anonymously. The default list covers every role's home page, the side menu's counts and every
list page, each as the role that works with it. Everything is
stopped and the database dropped at the end, also on error.

With --writes-per-second N, a.teacher records the class's attendance of a school day (the attendance form,
posted through the server being measured: the first pupil on sick leave, then present again, in turn,
so that every post changes a row) N times a second while each URL is requested: the district as it is
in school hours, where a kept page is kept only as long as what it read is left alone. The writes made
are reported per URL.

Where one page's time goes: run with --keep-database, then `bench/profile_page.py` against the kept
database (its queries with their times, and the hottest functions).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import PG_OWNER, ROOT, drop_database, fresh_database, manage, run_script

HOST = "127.0.0.1"
PASSWORD = "demo-2026"  # noqa: S105  demo.seed.DEMO_PASSWORD (printed by seed_demo, in the README)
#: What is requested: "URL" (as a.district) or "user:URL". Every role's home page, the side menu's
#: counts (fetched by every page after it loads), then every list page as the role that works with it.
URLS = [
    "/healthz",
    "a.teacher:/",
    "a.officer:/",
    "a.principal:/",
    "a.district:/",
    "a.auditor:/",
    "a.teacher:/menu/counts/",
    "a.officer:/menu/counts/",
    "a.district:/menu/counts/",
    "/students/",
    "/students/applications/",
    "a.officer:/students/applications/",
    "/students/publicity/",
    "/students/roster/",
    "/schools/",
    "/funding/awards/",
    "/funding/budgets/",
    "/disbursements/",
    "/disbursements/corrections/",
    "/disbursements/ledger/",
    "/registry/",
    "/reconciliation/",
    "/audit/",
    "/care/cases/",
    "/care/watch/",
    "/care/pairing/",
    "/care/weekly/",
    "/care/weekly/summary/",
    "/oversight/reports/",
    "/funding/emergency/",
    "/disbursements/letters/",
    "/oversight/checks/",
    "/oversight/dashboard/",
    "/oversight/outreach/",
    # (/care/attendance/ redirects a teacher to their class's page, whose URL carries the class's id.)
    "a.teacher:/care/my-pupils/",
]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--awards", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--max-requests", type=int, default=20_000, help="per URL and server, a hard bound")
    parser.add_argument("--compare", default="", help="a git revision served side by side (e.g. main)")
    parser.add_argument("--urls", nargs="+", default=URLS)
    parser.add_argument(
        "--redis-url",
        default="",
        help="serve with this Redis (sessions and cache there, as production runs); default: none, sessions in "
        "PostgreSQL and a per-process cache",
    )
    parser.add_argument("--keep-database", action="store_true", help="for profiling; drop it by hand after")
    parser.add_argument(
        "--writes-per-second",
        type=float,
        default=0.0,
        help="a.teacher records today's attendance this often while each URL is requested (default: none)",
    )
    args = parser.parse_args()
    if not 1 <= args.clients <= 64 or not 0 < args.seconds <= 120:
        parser.error("--clients 1..64, --seconds up to 120")
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    servers: list[tuple[str, subprocess.Popen]] = []
    env: dict[str, str] = {}
    try:
        trees = [("this", ROOT)]
        if args.compare:
            trees.insert(0, (args.compare, _export(args.compare, work / "compare")))
        env = fresh_database("postgresql")
        started = time.perf_counter()
        manage(["seed_demo", "--scale", "0.05"], env)
        run_script("bench.reconcile", ["--inner", "seed", str(args.students), str(args.awards)], env)
        # Seeded outside DEBUG, the demo accounts must change their password and the district's roles
        # must pass a second factor before any page opens: the bench signs in with the password only
        # (TWO_FACTOR_ENFORCED=0 below). The door's per-request work (session limits) is still measured.
        sql = "UPDATE schools_user SET must_change_password = false"
        subprocess.run(["psql", f"{PG_OWNER}/{env['BENCH_DROP_DATABASE']}", "-qc", sql], check=True)
        # As a settled database is (autovacuum's work): statistics, and the visibility map that lets an
        # index answer a count alone. (VACUUM cannot share psql's one transaction with the UPDATE.)
        subprocess.run(["psql", f"{PG_OWNER}/{env['BENCH_DROP_DATABASE']}", "-qc", "VACUUM ANALYZE"], check=True)
        print(f"seeded {args.students:,} pupils, {args.awards:,} awards in {time.perf_counter() - started:.0f} s")
        ports = {}
        for label, tree in trees:
            port = _free_port()
            server_env = {**env, "STATIC_ROOT": str(work / f"static-{label}")}
            if args.redis_url:
                server_env["REDIS_URL"] = args.redis_url
            servers.append((label, _gunicorn(tree, port, server_env)))
            ports[label] = port
        for port in ports.values():
            _wait_ready(port)
        targets = [_target(spec) for spec in args.urls]
        users = sorted({user for user, _url in targets if user} | ({WRITER} if args.writes_per_second else set()))
        cookies = {(label, user): _login(port, user) for label, port in ports.items() for user in users}
        rows = []
        for user, url in targets:
            name = f"{user}:{url}" if user and user != "a.district" else url
            for label, proc in servers:
                try:
                    writer = cookies.get((label, WRITER), "")
                    result = _hammer(ports[label], url, cookies.get((label, user), ""), args, writer)
                except RuntimeError as error:  # a page that does not answer 200: say so, go on
                    print(f"{name:32} {label:6} skipped: {error}", flush=True)
                    continue
                result["cpu_app"] = _cpu_of_children(proc.pid)
                rows.append((name, label, result))
                print(_line(name, label, result), flush=True)
        _table(rows, args)
    finally:
        for _label, proc in servers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _label, proc in servers:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if env and args.keep_database:
            print(f"kept: {env['DATABASE_URL']}")
        elif env:
            drop_database(env)
        shutil.rmtree(work, ignore_errors=True)


def _export(revision: str, target: Path) -> Path:
    """The revision's files (its code only; the database is this run's) in a temporary directory."""
    target.mkdir(parents=True)
    archive = target.parent / "compare.tar"
    subprocess.run(["git", "archive", "-o", str(archive), revision], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    archive.unlink()
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _gunicorn(tree: Path, port: int, env: dict[str, str]) -> subprocess.Popen:
    server_env = {
        **env,
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "TWO_FACTOR_ENFORCED": "0",
        "PYTHONPATH": str(tree),
    }
    # As deployed: the hashed static files' manifest, collected from the tree that serves them.
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(collect, cwd=tree, env=server_env, check=True, stdout=subprocess.DEVNULL)
    gunicorn = str(ROOT / ".venv" / "bin" / "gunicorn")
    command = [gunicorn, "config.wsgi", "-w", "2", "--threads", "1", "-b", f"{HOST}:{port}", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=tree, env=server_env)


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn on port {port} did not answer /healthz within 60 s")


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def _target(spec: str) -> tuple[str, str]:
    """("a.teacher", "/") from "a.teacher:/"; ("a.district", "/students/") from "/students/"; no user for
    /healthz (anonymous, as the load balancer asks)."""
    user, _, url = spec.rpartition(":")
    if not user:
        user = "" if url == "/healthz" else "a.district"
    return user, url


def _login(port: int, username: str) -> str:
    """Sign in through the login form (CSRF cookie and token); the Cookie header."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    jar = _cookies(response)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()).group(1)
    body = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={jar['csrftoken']}",
        "Referer": f"http://{HOST}:{port}/accounts/login/",
    }
    conn.request("POST", "/accounts/login/", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    jar.update(_cookies(response))
    if response.status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"login of {username} failed: {response.status}")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def _hammer(port: int, url: str, cookie: str, args: argparse.Namespace, writer_cookie: str = "") -> dict:
    """--clients keep-alive clients on one URL for --seconds; latencies, errors, CPU of the database; with
    --writes-per-second, the teacher's attendance posted meanwhile (`_write_attendance`)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    budget = [args.max_requests]
    headers = {"Cookie": cookie, "Connection": "keep-alive"} if cookie else {"Connection": "keep-alive"}
    _request_once(port, url, headers)  # warm: templates, connections
    stop_at = time.perf_counter() + args.seconds

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < stop_at:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            started = time.perf_counter()
            try:
                conn.request("GET", url, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    writes = [0]

    def write() -> None:
        form = _attendance_form(port, writer_cookie)
        while time.perf_counter() < stop_at:
            _write_attendance(port, writer_cookie, form, absent=writes[0] % 2 == 0)
            writes[0] += 1
            time.sleep(1 / args.writes_per_second)

    db_cpu = _cpu_of_postgres()
    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    if args.writes_per_second:
        threads.append(threading.Thread(target=write))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    n = len(latencies)
    return {
        "n": n,
        "rps": n / wall,
        "p50": latencies[n // 2] if n else 0.0,
        "p95": latencies[min(n - 1, int(n * 0.95))] if n else 0.0,
        "p99": latencies[min(n - 1, int(n * 0.99))] if n else 0.0,
        "errors": errors[0],
        "cpu_db": _cpu_since(db_cpu),
        "wall": wall,
        "writes": writes[0],
    }


#: Who writes with --writes-per-second: the class teacher, recording a day's attendance.
WRITER = "a.teacher"
#: The day recorded: a Monday of the demo's autumn semester. Not today: in December, recording a day
#: looks a month ahead for its follow-up days, into a year whose official calendar the demo has not
#: loaded (the service refuses, rightly, and nothing would be written).
WRITE_DAY = "2026-11-02"


def _attendance_form(port: int, cookie: str) -> tuple[str, str, str]:
    """The teacher's class attendance page (the index redirects a teacher of one class there): its path,
    the CSRF token of its form and the field of its first pupil."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("GET", "/care/attendance/", headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read()
    path = urllib.parse.urlsplit(response.getheader("Location") or "").path
    if response.status != 302 or not path:
        raise RuntimeError(f"/care/attendance/ answered {response.status}, not the class's page")
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    pupil = re.search(r'name="(r_[0-9a-f-]+)"', page)
    if response.status != 200 or token is None or pupil is None:
        raise RuntimeError(f"{path} answered {response.status} without a form")
    conn.close()
    return path, token.group(1), pupil.group(1)


def _write_attendance(port: int, cookie: str, form: tuple[str, str, str], absent: bool) -> None:
    """A day's attendance of the teacher's class: everyone present, or the first pupil on sick leave (a
    change the app records and audits: posting the same day twice changes nothing)."""
    path, token, pupil = form
    fields = {"day": WRITE_DAY, "csrfmiddlewaretoken": token, pupil: "SICK_LEAVE" if absent else ""}
    body = urllib.parse.urlencode(fields)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie,
        "Referer": f"http://{HOST}:{port}{path}",
    }
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 302:
        raise RuntimeError(f"the attendance post answered {response.status}")


def _request_once(port: int, url: str, headers: dict[str, str]) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("GET", url, headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"{url} answered {response.status}")
    conn.close()


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


_app_cpu_seen: dict[int, float] = {}


def _cpu_of_children(parent: int) -> float:
    """CPU seconds the gunicorn workers spent since the last call for this server."""
    total = 0.0
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = path.read_text()
        except OSError:
            continue
        if int(text.rsplit(")", 1)[1].split()[1]) == parent:
            total += _proc_cpu(int(path.parent.name))
    spent = total - _app_cpu_seen.get(parent, 0.0)
    _app_cpu_seen[parent] = total
    return spent


def _cpu_of_postgres() -> dict[int, float]:
    """{pid: CPU seconds} of the postgres processes on this machine (the server is local)."""
    found = {}
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = path.read_text()
        except OSError:
            continue
        if text.split("(", 1)[1].startswith("postgres"):
            found[int(path.parent.name)] = _proc_cpu(int(path.parent.name))
    return found


def _cpu_since(before: dict[int, float]) -> float:
    """CPU seconds the postgres processes alive now spent since `before` (a backend that ended meanwhile
    is not counted: an underestimate, small with keep-alive connections)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in _cpu_of_postgres().items())


def _line(url: str, label: str, r: dict) -> str:
    return (
        f"{url:32} {label:6} {r['rps']:7.1f} req/s  p50 {r['p50'] * 1000:7.0f} ms  p95 {r['p95'] * 1000:7.0f} ms  "
        f"p99 {r['p99'] * 1000:7.0f} ms  "
        f"errors {r['errors']}  n {r['n']}  CPU app {r['cpu_app']:.1f} s, db {r['cpu_db']:.1f} s"
        + (f"  writes {r['writes']}" if r.get("writes") else "")
    )


def _table(rows: list, args: argparse.Namespace) -> None:
    healthz = {label: r["rps"] for url, label, r in rows if url == "/healthz"}
    print(f"\n{args.clients} clients, {args.seconds:g} s per URL and server, {args.students:,} pupils")
    print(f"sessions and cache: {'Redis' if args.redis_url else 'PostgreSQL sessions, per-process cache'}")
    if args.writes_per_second:
        print(f"meanwhile {WRITER} records a school day's attendance {args.writes_per_second:g} times a second")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(
        "| URL | code | req/s | p50 | p95 | p99 | errors | CPU s (app + db) | CPU ms / request "
        "| ≥ ½ /healthz, p99 < 200 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for url, label, r in rows:
        half = healthz.get(label, 0) / 2
        reach = "" if url == "/healthz" else ("yes" if r["rps"] >= half and r["p99"] < 0.2 else "no")
        print(
            f"| `{url}` | {label} | {r['rps']:.1f} | {r['p50'] * 1000:.0f} ms | {r['p95'] * 1000:.0f} ms "
            f"| {r['p99'] * 1000:.0f} ms | {r['errors']} | {r['cpu_app']:.1f} + {r['cpu_db']:.1f} "
            f"| {(r['cpu_app'] + r['cpu_db']) * 1000 / max(r['n'], 1):.1f} | {reach} |"
        )


if __name__ == "__main__":
    main()
