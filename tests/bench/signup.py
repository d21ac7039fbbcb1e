"""The sign-up benchmark: POST latency and sign-ups per second, over real HTTP.

Unlike the page benchmarks, this one measures a real server: gunicorn with
sync workers on 127.0.0.1, the bench settings (``tests.bench.settings``) and a
dedicated PostgreSQL database, since row locks, commits and concurrent
connections are the cost being measured. Its floor is the write floor
(``floors.sign_up_write_floor``): through the same middleware, the same form
validated, then the event's row lock, the count of its places, the
registration row and the email's task row in one transaction of plain SQL.
The sign-up's median must be within ``MAX_RATIO`` of it. A POST that only
validates the form (``floors.sign_up_floor``) is timed too, as the cost of
the request itself.

1. Set-up: create the database if missing, then, in a subprocess
   (``signup_setup``), migrate it, replace the previous run's events with
   fresh ones (for each of sign-up and write floor: one for latency and
   ``BENCH_SIGNUP_EVENTS`` for throughput) and count the queries of one
   POST to each with the test client.
2. Start gunicorn on a free port and wait until it answers; it is always
   stopped afterwards (its whole process group), also on errors and Ctrl+C.
3. Latency: one client, sequential POSTs to the sign-up, the write floor and
   the validate-only floor in turn (ABC CBA) after a warm-up; the sign-up's
   median is compared with the write floor's.
4. Throughput: concurrent clients (spawned processes of threads, see
   ``load``) POST for a fixed time, spread over several events (client ``n``
   signs up for event ``n % BENCH_SIGNUP_EVENTS``), to the sign-up and then
   to the write floor; the sign-up's rate must reach ``BENCH_SIGNUP_TARGET``.
5. Check: every sign-up and every write-floor POST answered 302 and created
   exactly one Registration row and queued one email task, no response was
   5xx, the validate-only floor wrote none.

To tell slow code from a busy machine, each phase also notes where the CPU
went (``cpu``: gunicorn, PostgreSQL, the clients, anything else) and the
CPU per request; the sign-up phase samples what PostgreSQL's backends wait
on (row locks, WAL flushes). Figures taken while other programs were busy
are flagged.

Environment variables:

* ``BENCH_SIGNUP_DATABASE_URL``: default
  ``postgres://postgres@127.0.0.1:5432/gather_bench``. The ``postgres``,
  ``test`` and template databases are refused.
* ``BENCH_SIGNUP_RUNS`` (200) and ``BENCH_SIGNUP_WARMUP`` (20): sequential
  POSTs, each of sign-up and floor.
* ``BENCH_SIGNUP_SECONDS`` (10): length of each throughput phase.
* ``BENCH_SIGNUP_CLIENTS`` (16) over ``BENCH_SIGNUP_PROCESSES`` (4).
* ``BENCH_SIGNUP_EVENTS`` (8): events each throughput phase spreads over.
* ``BENCH_SIGNUP_WORKERS`` (4): gunicorn sync workers.
* ``BENCH_SIGNUP_TARGET`` (200): sign-ups per second to pass.
* ``BENCH_SIGNUP_REDIS_URL``: when set, the server's cache (rate limit,
  public cache generation) is this Redis, as in production; else each
  process's memory.
"""

import contextlib
import gc
import json
import multiprocessing
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from . import load
from .cpu import CpuMeter
from .environment import BASE_DIR, BENCH_DIR, env_int
from .registry import Benchmark, register
from .runner import Query, Result, Timing

NAME = "sign-up POST"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/gather_bench"
#: Databases this benchmark must never create, migrate or write to.
FORBIDDEN_DATABASES = {"postgres", "test", "template0", "template1"}
#: Seconds to wait for gunicorn to answer (a busy shared machine can take
#: half a minute to start four workers), and for a set-up subprocess.
SERVER_START_TIMEOUT = 90
SETUP_TIMEOUT = 600
GUNICORN_LOG = BENCH_DIR / "sign-up-gunicorn.log"
MAX_RATIO = 1.5
#: Above this share of one core used by other work (other programs and
#: unattributed time), figures are flagged as disturbed.
OTHER_CPU_WARNING = 25


def log(message):
    """Progress output, on stderr so the table stays clean on stdout."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


@dataclass
class Settings:
    """How to run: database, sizes and targets, from the environment."""

    database_url: str = field(
        default_factory=lambda: (
            os.environ.get("BENCH_SIGNUP_DATABASE_URL", "").strip()
            or DEFAULT_DATABASE_URL
        )
    )
    runs: int = field(default_factory=lambda: env_int("BENCH_SIGNUP_RUNS", 200))
    warmup: int = field(default_factory=lambda: env_int("BENCH_SIGNUP_WARMUP", 20))
    seconds: int = field(default_factory=lambda: env_int("BENCH_SIGNUP_SECONDS", 10))
    clients: int = field(default_factory=lambda: env_int("BENCH_SIGNUP_CLIENTS", 16))
    processes: int = field(default_factory=lambda: env_int("BENCH_SIGNUP_PROCESSES", 4))
    workers: int = field(default_factory=lambda: env_int("BENCH_SIGNUP_WORKERS", 4))
    target: int = field(default_factory=lambda: env_int("BENCH_SIGNUP_TARGET", 200))

    @property
    def parts(self):
        """The database URL, split."""
        return urlsplit(self.database_url)

    @property
    def database_name(self):
        """The bench database's name."""
        return self.parts.path.lstrip("/")

    @property
    def server_label(self):
        """``host:port`` of the PostgreSQL server."""
        return f"{self.parts.hostname or 'localhost'}:{self.parts.port or 5432}"

    def url_for(self, name):
        """The same server's URL for database ``name``."""
        return urlunsplit(self.parts._replace(path=f"/{name}"))


# Database --------------------------------------------------------------------


def ensure_database(settings):
    """Create the bench database if missing; return why not to run, or ""."""
    import psycopg
    from psycopg import sql

    name = settings.database_name
    if not name or name in FORBIDDEN_DATABASES:
        return f"skipped: refusing to use database {name!r} for the sign-up bench"
    try:
        psycopg.connect(settings.database_url, connect_timeout=3).close()
        return ""
    except psycopg.OperationalError as error:
        first_error = error
    try:
        # The maintenance database, only to ask about and create the bench one.
        admin = psycopg.connect(
            settings.url_for("postgres"), connect_timeout=3, autocommit=True
        )
    except psycopg.OperationalError as error:
        return (
            f"skipped: PostgreSQL not reachable at {settings.server_label} "
            f"({first_line(error)})"
        )
    with admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists:
            return (
                f"skipped: cannot connect to database {name!r} "
                f"({first_line(first_error)})"
            )
        log(f"Creating database {name} on {settings.server_label}...")
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return ""


def first_line(error):
    """The first line of an error message, for a one-line report."""
    text = str(error).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__


class RowCounter:
    """Counts an event's Registration rows and queued tasks, with psycopg."""

    def __init__(self, settings, setup):
        """Connect to the bench database (autocommit: every count is fresh)."""
        import psycopg
        from psycopg import sql

        self.connection = psycopg.connect(settings.database_url, autocommit=True)
        self.registrations = sql.SQL("SELECT count(*) FROM {} WHERE event_id = ANY(%s)")
        self.registrations = self.registrations.format(
            sql.Identifier(setup["registration_table"])
        )
        self.tasks = sql.SQL(
            "SELECT count(*), count(*) FILTER (WHERE {} = %s) FROM {}"
        ).format(
            sql.Identifier(setup["task_path_column"]),
            sql.Identifier(setup["task_table"]),
        )
        self.email_task = setup["email_task_path"]

    def snapshot(self, events):
        """Registration rows of ``events`` (setup dicts), email tasks and all
        tasks, now."""
        ids = [event["id"] for event in events]
        rows = self.connection.execute(self.registrations, [ids]).fetchone()[0]
        tasks, emails = self.connection.execute(
            self.tasks, [self.email_task]
        ).fetchone()
        return Counts(rows, emails, tasks)

    def other_backends(self):
        """PIDs of PostgreSQL backends serving other databases (not ours)."""
        rows = self.connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " AND datname IS DISTINCT FROM current_database()"
        )
        return {pid for (pid,) in rows}

    def close(self):
        """Close the connection."""
        self.connection.close()


@dataclass(frozen=True)
class Counts:
    """Rows counted in the bench database, or what two counts differ by."""

    registrations: int
    emails: int
    tasks: int

    def __sub__(self, other):
        """What was added since ``other``."""
        return Counts(
            self.registrations - other.registrations,
            self.emails - other.emails,
            self.tasks - other.tasks,
        )


def server_environment(settings):
    """The environment for the set-up subprocess and gunicorn."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.bench.settings",
        BENCH_SIGNUP_DATABASE_URL=settings.database_url,
        DATABASE_URL=settings.database_url,
        DEBUG="false",
    )
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


def run_setup(env):
    """Migrate and create this run's events in a subprocess; return its JSON."""
    return run_json_module("tests.bench.signup_setup", env, label="set-up")


def run_json_module(module, env, *args, label=None):
    """``python -m MODULE ARGS... OUTPUT`` with ``env``; the JSON it wrote to
    OUTPUT. The set-ups run apart so Django is configured for the server's
    database, not the benchmark process's."""
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, "out.json")
        done = subprocess.run(
            [sys.executable, "-m", module, *args, output],
            cwd=BASE_DIR,
            env=env,
            timeout=SETUP_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            what = label or (args[0] if args else module)
            raise RuntimeError(f"{what} failed (exit {done.returncode}), see above")
        with open(output, encoding="utf-8") as file:
            return json.load(file)


# The server ------------------------------------------------------------------


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_tail(lines=15, path=GUNICORN_LOG):
    """The end of gunicorn's log, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def raise_system_exit(signum, frame):
    """SIGTERM handler: unwind through the ``finally`` that stops gunicorn."""
    raise SystemExit(128 + signum)


@dataclass(frozen=True)
class Server:
    """A running gunicorn: its port, and its process group (its master's pid)."""

    port: int
    group: int


@contextlib.contextmanager
def gunicorn(
    env,
    *,
    workers,
    probe_path,
    log_path=GUNICORN_LOG,
    start_timeout=SERVER_START_TIMEOUT,
):
    """Run gunicorn on a free port until the block ends; yields a ``Server``.

    Its output goes to ``log_path``; it must answer within ``start_timeout``
    seconds. gunicorn gets a process group of its
    own, which is signalled as a whole on the way out (TERM, then KILL after
    ten seconds), whatever happened.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "website.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        f"--config={BASE_DIR / 'tests/bench/gunicorn_conf.py'}",
        "--no-control-socket",
        "--log-level=warning",
        "--error-logfile=-",
        "--timeout=60",
        "--graceful-timeout=5",
    ]
    BENCH_DIR.mkdir(exist_ok=True)
    previous = signal.signal(signal.SIGTERM, raise_system_exit)
    process = None
    try:
        with open(log_path, "w", encoding="utf-8") as server_log:
            process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=server_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_answering(process, port, probe_path, log_path, start_timeout)
        yield Server(port, process.pid)
    finally:
        if process is not None:
            stop(process)
        signal.signal(signal.SIGTERM, previous)


def wait_until_answering(
    process, port, path, log_path=GUNICORN_LOG, timeout=SERVER_START_TIMEOUT
):
    """Poll ``path`` until it answers 200; fail if gunicorn exits or is slow."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {process.returncode}:\n{log_tail(path=log_path)}"
            )
        visitor = load.Visitor(port, prefix="probe")
        try:
            status, _ = visitor.request("GET", path)
        except OSError:
            status = None
        finally:
            visitor.close()
        if status == 200:
            return
        if status is not None:
            raise RuntimeError(
                f"GET {path} answered {status}:\n{log_tail(path=log_path)}"
            )
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer in {timeout}s")


def stop(process):
    """Stop gunicorn's process group: TERM, then KILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)


# Measuring -------------------------------------------------------------------


def measure_latency(port, form_path, paths, *, warmup, runs, prefix):
    """Sequential POSTs from one client, alternating (ABBA) between ``paths``.

    Returns one Timing per path and the status codes per path (warm-up
    included).
    """
    visitor = load.Visitor(port, prefix=prefix)
    timings = [Timing() for _ in paths]
    statuses = [Counter() for _ in paths]
    pairs = list(zip(paths, timings, statuses, strict=True))
    try:
        visitor.open_form(form_path)
        for _ in range(warmup):
            for path, _timing, counted in pairs:
                counted[str(visitor.post_form(path)[0])] += 1
        gc.collect()
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for i in range(runs):
                for path, timing, counted in pairs if i % 2 == 0 else pairs[::-1]:
                    status, ms = visitor.post_form(path)
                    counted[str(status)] += 1
                    timing.samples.append(ms)
        finally:
            if gc_was_enabled:
                gc.enable()
    finally:
        visitor.close()
    return timings, statuses


@dataclass
class Load:
    """What concurrent clients got from one throughput phase."""

    statuses: Counter
    latencies: list[float]
    seconds: float
    cpu: object = None

    @property
    def ok(self):
        """How many POSTs answered 302."""
        return self.statuses.get("302", 0)

    @property
    def rate(self):
        """302 responses per second."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def server_errors(self):
        """How many responses were 5xx."""
        return sum(n for status, n in self.statuses.items() if status.startswith("5"))


def measure_throughput(port, targets, settings, *, prefix, meter):
    """``settings.clients`` clients POST for a fixed time.

    ``targets`` lists (form path, POST path) pairs; client ``n`` takes
    ``targets[n % len(targets)]``, so the load spreads over several events.
    Clients are threads spread over spawned processes, so the load generator
    is not held back by one interpreter's lock. ``meter`` (a ``CpuMeter``)
    notes where the CPU went meanwhile. Returns a ``Load``.
    """
    context = multiprocessing.get_context("spawn")
    results, go = context.Queue(), context.Event()
    deadline = context.Value("d", 0.0)
    processes = max(1, min(settings.processes, settings.clients))
    shares = [[] for _ in range(processes)]
    for n in range(settings.clients):
        shares[n % processes].append(targets[n % len(targets)])
    # No client can do more than a thousand POSTs a second: a hard bound.
    limit = 1000 * settings.seconds
    finished = False
    workers = [
        context.Process(
            target=load.load_process,
            args=(n, port, share, f"{prefix}-{n}", limit),
            kwargs={"go": go, "deadline": deadline, "results": results},
            daemon=True,
        )
        for n, share in enumerate(shares)
    ]
    try:
        for worker in workers:
            worker.start()
        for message in collect(results, len(workers), timeout=60):
            if not message.get("ready"):
                raise RuntimeError(f"a load process failed:\n{message.get('error')}")
        meter.start(time.monotonic())
        deadline.value = time.monotonic() + settings.seconds
        go.set()
        wait = settings.seconds + 2 * load.REQUEST_TIMEOUT + 10
        summaries = collect(results, len(workers), timeout=wait)
        cpu = meter.stop(time.monotonic(), sum(s["cpu"] for s in summaries))
        finished = True
    finally:
        for worker in workers:
            if worker.pid is None:  # never started
                continue
            if finished:
                worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)
    statuses, latencies = Counter(), []
    for summary in summaries:
        statuses.update(summary["statuses"])
        latencies.extend(summary["latencies"])
    firsts = [s["first"] for s in summaries if s["first"] is not None]
    lasts = [s["last"] for s in summaries if s["last"] is not None]
    seconds = max(lasts) - min(firsts) if firsts and lasts else 0.0
    return Load(statuses, latencies, seconds, cpu)


def collect(results, count, *, timeout):
    """``count`` messages from ``results``, within ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    messages = []
    while len(messages) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError("load processes did not report in time")
        try:
            messages.append(results.get(timeout=remaining))
        except queue.Empty:
            continue
    return messages


# The benchmark ---------------------------------------------------------------


def execute(ctx):
    """Run the whole sign-up benchmark; returns a ``Result`` for the table."""
    settings = Settings()
    benchmark = SIGN_UP
    reason = ensure_database(settings)
    if reason:
        return Result(benchmark, Timing(), None, [], None, skipped=reason)
    try:
        return measure(benchmark, settings)
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        message = first_line(error)
        return Result(
            benchmark,
            Timing(),
            None,
            [f"did not complete: {error}"],
            None,
            skipped=f"failed: {message}",
        )


@dataclass
class Phases:
    """Everything the phases measured."""

    port: int
    page: Timing
    write_floor: Timing
    floor: Timing
    page_statuses: Counter
    write_floor_statuses: Counter
    floor_statuses: Counter
    latency_rows: Counts
    write_latency_rows: Counts
    latency_cpu: object
    page_load: Load
    load_rows: Counts
    waits: str
    write_floor_load: Load
    write_load_rows: Counts
    events: int


def measure(benchmark, settings):
    """Set up, serve, measure and check; returns the ``Result``."""
    env = server_environment(settings)
    log(f"  migrating {settings.database_name} and creating fresh events...")
    setup = run_setup(env)
    counter = RowCounter(settings, setup)
    try:
        log(f"  starting gunicorn ({settings.workers} sync workers)...")
        with gunicorn(
            env,
            workers=settings.workers,
            probe_path=setup["events"]["latency"][0]["sign_up_path"],
        ) as server:
            phases = run_phases(server, settings, setup, counter)
    finally:
        counter.close()
    queries = setup["queries"]
    phases.page.queries = [Query(**query) for query in queries["page"]]
    phases.write_floor.queries = [Query(**query) for query in queries["write_floor"]]
    phases.floor.queries = [Query(**query) for query in queries["floor"]]
    page_load = phases.page_load
    sign_ups = phases.page_statuses.get("302", 0) + page_load.ok
    return Result(
        benchmark,
        phases.page,
        phases.write_floor,
        check(phases),
        None,
        notes=notes(settings, phases),
        extra_verdicts=[
            (
                f"{page_load.rate:.1f} sign-ups/s from {settings.clients} clients "
                f"over {phases.events} events, {settings.workers} gunicorn workers "
                f"(target >= {settings.target}/s)",
                page_load.rate >= settings.target,
            )
        ],
        sanity=(
            f"all {sign_ups} sign-ups and every write-floor POST answered 302 and "
            "made one row and one email task each; no 5xx; the validate-only "
            "floor wrote nothing"
        ),
    )


def run_phases(server, settings, setup, counter):
    """Latency, then sign-up and write-floor throughput; returns Phases."""
    run_id, floor_path = setup["run_id"], setup["floor_path"]
    events = setup["events"]
    latency_event = events["latency"][0]
    write_event = events["write_latency"][0]
    meter = CpuMeter(server.group, counter.other_backends)

    log(f"  latency: {settings.runs} POSTs each, one client...")
    before = [counter.snapshot(events[k]) for k in ("latency", "write_latency")]
    meter.start(time.monotonic())
    timings, statuses = measure_latency(
        server.port,
        latency_event["sign_up_path"],
        [
            latency_event["sign_up_path"],
            write_event["write_floor_path"],
            floor_path,
        ],
        warmup=settings.warmup,
        runs=settings.runs,
        prefix=f"{run_id}-latency",
    )
    latency_cpu = meter.stop(time.monotonic(), 0.0)
    latency_rows = counter.snapshot(events["latency"]) - before[0]
    write_latency_rows = counter.snapshot(events["write_latency"]) - before[1]

    log(
        f"  throughput: {settings.clients} clients over "
        f"{len(events['throughput'])} events for {settings.seconds}s..."
    )
    before = counter.snapshot(events["throughput"])
    with WaitSampler(settings.database_url) as sampler:
        page_load = measure_throughput(
            server.port,
            [(e["sign_up_path"], e["sign_up_path"]) for e in events["throughput"]],
            settings,
            prefix=f"{run_id}-load",
            meter=meter,
        )
    load_rows = counter.snapshot(events["throughput"]) - before

    log(f"  write floor throughput: {settings.clients} clients...")
    before = counter.snapshot(events["write_throughput"])
    write_floor_load = measure_throughput(
        server.port,
        [
            (e["sign_up_path"], e["write_floor_path"])
            for e in events["write_throughput"]
        ],
        settings,
        prefix=f"{run_id}-write",
        meter=meter,
    )
    write_load_rows = counter.snapshot(events["write_throughput"]) - before
    page, write_floor, floor = timings
    page_statuses, write_floor_statuses, floor_statuses = statuses
    return Phases(
        port=server.port,
        page=page,
        write_floor=write_floor,
        floor=floor,
        page_statuses=page_statuses,
        write_floor_statuses=write_floor_statuses,
        floor_statuses=floor_statuses,
        latency_rows=latency_rows,
        write_latency_rows=write_latency_rows,
        latency_cpu=latency_cpu,
        page_load=page_load,
        load_rows=load_rows,
        waits=sampler.describe(),
        write_floor_load=write_floor_load,
        write_load_rows=write_load_rows,
        events=len(events["throughput"]),
    )


class WaitSampler:
    """What the bench database's busy backends wait on, sampled in a thread.

    Every ``INTERVAL`` seconds it reads ``pg_stat_activity`` for the bench
    database's active client backends. ``Lock`` waits (``transactionid``,
    ``tuple``) are sign-ups queued behind another's row lock on the event.
    """

    INTERVAL = 0.05

    def __init__(self, database_url):
        """Sample the database at ``database_url`` while in a ``with`` block."""
        self.database_url = database_url
        self.samples = 0
        self.active = 0
        self.waits = Counter()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def __enter__(self):
        """Start sampling."""
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        """Stop sampling."""
        self.stopping.set()
        self.thread.join(timeout=5)

    def sample(self):
        """The sampling loop; ends when the block does."""
        import psycopg

        query = (
            "SELECT wait_event_type, wait_event FROM pg_stat_activity"
            " WHERE datname = current_database() AND state = 'active'"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        try:
            with psycopg.connect(self.database_url, autocommit=True) as connection:
                while not self.stopping.wait(self.INTERVAL):
                    rows = connection.execute(query).fetchall()
                    self.samples += 1
                    self.active += len(rows)
                    self.waits.update(f"{kind}:{event}" for kind, event in rows if kind)
        except psycopg.Error:
            self.samples = 0

    def describe(self):
        """One line: backends busy on average, and what they waited on."""
        if not self.samples:
            return ""
        waits = ", ".join(
            f"{name} {count / self.samples:.2f}"
            for name, count in self.waits.most_common(4)
        )
        return (
            f"PostgreSQL backends busy: {self.active / self.samples:.2f} on average; "
            f"waiting on {waits or 'nothing'} "
            f"({self.samples} samples, every {1000 * self.INTERVAL:.0f} ms)"
        )


def check(phases):
    """Problems: statuses other than 302, lost or duplicated rows or tasks,
    anything written by the validate-only floor."""
    problems = []
    for label, statuses in (
        ("latency sign-up", phases.page_statuses),
        ("latency write floor", phases.write_floor_statuses),
        ("latency floor", phases.floor_statuses),
        ("throughput sign-up", phases.page_load.statuses),
        ("throughput write floor", phases.write_floor_load.statuses),
    ):
        other = {status: n for status, n in statuses.items() if status != "302"}
        if other:
            problems.append(f"{label}: responses other than 302: {other}")
    page_ok = phases.page_statuses.get("302", 0)
    write_ok = phases.write_floor_statuses.get("302", 0)
    # Task counts are of the whole database: in the latency phase they are
    # the sign-ups' and the write floor's, and the floor must add none.
    latency_tasks = Counts(0, phases.latency_rows.emails, phases.latency_rows.tasks)
    for label, ok, added in (
        ("latency sign-up", page_ok, phases.latency_rows),
        ("latency write floor", write_ok, phases.write_latency_rows),
        ("latency sign-up and write floor", page_ok + write_ok, latency_tasks),
        ("throughput sign-up", phases.page_load.ok, phases.load_rows),
        ("throughput write floor", phases.write_floor_load.ok, phases.write_load_rows),
    ):
        if label.startswith("latency sign-up and"):
            if added.emails != ok or added.tasks != ok:
                problems.append(
                    f"{label}: {ok} answered 302 but {added.emails} emails and "
                    f"{added.tasks} tasks were queued (the floor must queue none)"
                )
            continue
        if added.registrations != ok:
            problems.append(
                f"{label}: {ok} answered 302 but "
                f"{added.registrations} rows were created"
            )
        if not label.startswith("latency") and added.emails != ok:
            problems.append(
                f"{label}: {ok} answered 302 but {added.emails} emails were queued"
            )
    return problems


INDENT = " " * 13


def cpu_lines(cpu, requests):
    """CPU shares and per-request costs, with a warning when others were busy."""
    if cpu is None:
        return []
    lines = [f"{INDENT}{cpu.describe(requests, 'POST')}"]
    busy = cpu.share(cpu.foreign)
    if busy > OTHER_CPU_WARNING:
        lines.append(
            f"{INDENT}WARNING: other work took {busy:.0f}% of a core "
            "meanwhile; these figures are understated."
        )
    return lines


def notes(settings, phases):
    """The lines printed under the table: method, throughput, where CPU went."""
    share = settings.clients // max(1, min(settings.processes, settings.clients))
    floor = phases.floor.median
    lines = [
        f"{NAME}: gunicorn, {settings.workers} sync workers, "
        f"127.0.0.1:{phases.port}; PostgreSQL "
        f"{settings.server_label}/{settings.database_name}.",
        f"  Latency: {settings.runs} sequential POSTs each after "
        f"{settings.warmup} warm-up, one client, sign-up, write floor and "
        "validate-only floor in turn;",
        "  queries counted in one more, untimed, POST through the test client.",
        f"    validate-only floor: median {floor:.2f} ms "
        f"({len(phases.floor.queries or [])} queries); sign-up "
        f"{phases.page.median / floor if floor else float('nan'):.2f}x it, "
        f"write floor "
        f"{phases.write_floor.median / floor if floor else float('nan'):.2f}x it",
    ]
    cpu = phases.latency_cpu
    if cpu is not None and cpu.share(cpu.foreign) > OTHER_CPU_WARNING:
        lines.append(
            f"{INDENT}WARNING: other work took {cpu.share(cpu.foreign):.0f}% of a "
            "core meanwhile; the medians are inflated."
        )
    lines.append(
        f"  Throughput: {settings.clients} concurrent clients (spawned processes "
        f"of ~{share} threads, http.client), {settings.seconds}s each, spread "
        f"over {phases.events} events:"
    )
    for label, measured, rows in (
        ("sign-up", phases.page_load, phases.load_rows),
        ("write floor", phases.write_floor_load, phases.write_load_rows),
    ):
        lines.append(
            f"    {label:11s} {measured.rate:7.1f}/s  ({measured.ok} x 302 in "
            f"{measured.seconds:.1f}s; {load.describe_latencies(measured.latencies)}"
            f"; {rows.registrations} rows, {rows.emails} email tasks)"
        )
        lines.extend(cpu_lines(measured.cpu, measured.ok))
        lines.extend(ceiling_lines(measured))
        if label == "sign-up" and phases.waits:
            lines.append(f"{INDENT}{phases.waits}")
    if phases.write_floor_load.rate:
        ratio = phases.page_load.rate / phases.write_floor_load.rate
        lines.append(f"    sign-up throughput is {ratio:.0%} of the write floor's")
    return lines


def ceiling_lines(measured):
    """The most sign-ups per second this machine's cores could give, from CPU."""
    cpu = measured.cpu
    if cpu is None or not measured.ok:
        return []
    per_request = (cpu.gunicorn + cpu.postgres + cpu.clients) / measured.ok
    cores = os.cpu_count() or 1
    return [
        f"{INDENT}CPU ceiling: {cores} cores / {1000 * per_request:.1f} ms "
        f"per sign-up = {cores / per_request:.0f}/s if nothing else ran"
    ]


SIGN_UP = register(
    Benchmark(
        name=NAME,
        execute=execute,
        max_ratio=MAX_RATIO,
        query_limit=None,
        needs_data=False,
        description="EventPage sign-up route: POST to 302, over gunicorn + PostgreSQL",
    )
)
