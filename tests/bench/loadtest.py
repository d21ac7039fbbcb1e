"""``make loadtest``: a mixed load on gunicorn, PostgreSQL and Redis, then checks.

``python -m tests.bench.loadtest``. Everything runs on this machine and
every request goes to 127.0.0.1:

1. Set-up (``loadtest_setup prepare``, in a subprocess): migrate the load
   test's PostgreSQL database, build the listing's data, fresh popular
   events, a drop-in event and a session about to start, and the manage
   tokens and facilitator cookies the clients use.
2. gunicorn (``LOADTEST_WORKERS`` sync workers, the settings of
   ``tests.bench.loadtest_settings``: Redis as the cache and the task queue)
   on a free port, always stopped afterwards (``signup.gunicorn``).
3. For each concurrency level in ``LOADTEST_CLIENTS``, that many clients
   (threads over spawned processes, ``http.client``, no pause between
   requests) for ``LOADTEST_SECONDS``, each request bounded in count too.
   Each client picks, by weight (``ACTIONS``): the listing with filters, a
   search, an event page, a calendar feed polled with ``If-None-Match``, a
   sign-up to a popular event, a drop-in sign-up for one or two dates, a
   cancellation through a manage link, or a facilitator saving attendance.
   The ramp stops early after a level with errors, or with half of all
   requests slower than the target (the server is saturated).
4. Checks (``loadtest_setup check``): no event or drop-in date has more
   confirmed people than places (``capacity_breaches``), every waitlist is
   numbered 1, 2, 3... with no gap or repeat (``waitlist_gaps``), and every
   confirmed person is named by a queued ``send_messages`` task
   (``missing_messages``; no task worker runs during the test).

It prints, per level, throughput and per endpoint the count, p50, p95 and
errors (any status other than the expected one, or no answer), where the
CPU went, and the highest level with no errors and the p95 of every page and
form POST under ``LOADTEST_TARGET_MS`` (the feeds' are reported, not held to
it: ``TARGETED``); the figures are also written to
``.bench/loadtest.json``. Exits 1 when a check fails or a request erred.

Environment variables:

* ``LOADTEST_DATABASE_URL``: default
  ``postgres://postgres@127.0.0.1:5432/gather_loadtest`` (the ``postgres``,
  ``test`` and template databases are refused).
* ``LOADTEST_REDIS_URL``: default ``redis://127.0.0.1:6379/10``. Emptied by
  the set-up: give the load test a Redis database of its own.
* ``LOADTEST_CLIENTS`` (``1,2,4,8,16``): the concurrency levels.
* ``LOADTEST_SECONDS`` (20): length of each level.
* ``LOADTEST_MAX_REQUESTS`` (20000): most requests per level, in all.
* ``LOADTEST_PROCESSES`` (2): client processes per level, at most.
* ``LOADTEST_WORKERS`` (4): gunicorn sync workers.
* ``LOADTEST_TARGET_MS`` (300): the p95 each endpoint must stay under.
* ``LOADTEST_WARMUP`` (5): seconds of load before the first level, not
  timed (each gunicorn worker's first requests load templates and code);
  its errors still count.
* ``LOADTEST_EVENTS`` (300): events in the listing (five sessions each).
* ``LOADTEST_POPULAR`` (4): popular events.

The production sign-up rate limit (10 per address in 10 minutes) would
refuse these clients, which all come from 127.0.0.1: the load test's
settings raise it out of reach (the limiter still runs).
"""

import contextlib
import http.client
import json
import multiprocessing
import os
import platform
import random
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from urllib.parse import urlencode

from . import load

#: What each request should answer; anything else is an error.
EXPECTED = {
    "listing": {200},
    "search": {200},
    "event page": {200},
    "feed": {200, 304},
    "sign-up form": {200},
    "sign-up POST": {302},
    "drop-in form": {200},
    "drop-in POST": {302},
    "cancel form": {200},
    "cancel POST": {302},
    "attendance page": {200},
    "attendance POST": {302},
}
#: Endpoints held to the p95 target: the pages and the forms' POSTs. A
#: calendar feed is polled in the background by calendar apps, not waited
#: on by a person: its figures are reported, not held to the target.
TARGETED = set(EXPECTED) - {"feed"}
#: What a client does next, by weight.
ACTIONS = {
    "listing": 20,
    "search": 10,
    "event": 20,
    "feed": 15,
    "sign_up": 12,
    "drop_in": 8,
    "cancel": 8,
    "attendance": 4,
}
ATTENDANCE_STATUSES = ["present", "late", "left_early", "absent", "excused"]
SESSION_BOX = re.compile(r'name="sessions" value="(\d+)"')
SETUP_TIMEOUT = 900


def log(message):
    """Progress output, on stderr so the report stays clean on stdout."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def env_int(name, default):
    """An integer environment variable, or ``default`` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_levels(name, default):
    """Comma-separated positive integers, e.g. ``2,4,8``."""
    value = os.environ.get(name, "").strip() or default
    levels = [int(part) for part in value.split(",") if part.strip()]
    if not levels or min(levels) < 1:
        raise SystemExit(f"{name} needs positive numbers, e.g. 2,4,8")
    return levels


# Figures ---------------------------------------------------------------------


def summarise(records, seconds, target_ms):
    """Per endpoint: count, p50, p95, errors and what they were; and totals.

    ``records`` maps an endpoint to ``{"statuses": {status: n}, "latencies":
    [ms, ...]}``; a status is an HTTP status as text, or ``error: ...``.
    """
    endpoints = {}
    for name in sorted(records, key=list(EXPECTED).index):
        statuses = records[name]["statuses"]
        latencies = records[name]["latencies"]
        expected = {str(status) for status in EXPECTED[name]}
        errors = {s: n for s, n in statuses.items() if s not in expected}
        p95 = load.percentile(latencies, 0.95) if latencies else None
        endpoints[name] = {
            "count": sum(statuses.values()),
            "p50": load.percentile(latencies, 0.5) if latencies else None,
            "p95": p95,
            "errors": sum(errors.values()),
            "error_statuses": errors,
            "statuses": dict(statuses),
            "held_to_target": name in TARGETED,
            "within_target": p95 is not None and p95 < target_ms,
        }
    total = sum(each["count"] for each in endpoints.values())
    everything = [ms for record in records.values() for ms in record["latencies"]]
    return {
        "seconds": seconds,
        "requests": total,
        "rate": total / seconds if seconds > 0 else 0.0,
        "errors": sum(each["errors"] for each in endpoints.values()),
        "endpoints": endpoints,
        "within_target": all(
            each["within_target"]
            for each in endpoints.values()
            if each["held_to_target"]
        ),
        "p50": load.percentile(everything, 0.5) if everything else None,
    }


def sustained(levels):
    """The highest level with no errors and every p95 under target, or None."""
    good = [
        level
        for level in levels
        if level["summary"]["errors"] == 0 and level["summary"]["within_target"]
    ]
    return max(good, key=lambda level: level["clients"]) if good else None


def merge_records(into, records):
    """Add one client's ``records`` to ``into`` (same shape, see ``summarise``)."""
    for name, record in records.items():
        target = into.setdefault(name, {"statuses": Counter(), "latencies": []})
        target["statuses"].update(record["statuses"])
        target["latencies"].extend(record["latencies"])


# The checks -------------------------------------------------------------------


def capacity_breaches(taken):
    """Problems: places over capacity.

    ``taken`` maps a label ("event 12", "event 12 session 40") to
    (capacity or None for no limit, confirmed people).
    """
    return [
        f"{label}: {confirmed} confirmed for {capacity} places"
        for label, (capacity, confirmed) in sorted(taken.items())
        if capacity is not None and confirmed > capacity
    ]


def waitlist_gaps(positions):
    """Problems: waitlists not numbered 1..n (a gap, a repeat, a 0).

    ``positions`` maps a label to the waitlist positions held, in any order.
    """
    problems = []
    for label, held in sorted(positions.items()):
        ordered = sorted(held)
        if ordered != list(range(1, len(ordered) + 1)):
            shown = ordered if len(ordered) <= 12 else [*ordered[:12], "..."]
            problems.append(f"{label}: waitlist positions {shown} are not 1..n")
    return problems


def missing_messages(confirmed_ids, messaged_ids):
    """Problems: confirmed people no queued message task names."""
    missing = sorted(set(confirmed_ids) - set(messaged_ids))
    if not missing:
        return []
    shown = ", ".join(str(pk) for pk in missing[:10])
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    return [f"{len(missing)} confirmed people have no message task: {shown}{more}"]


# The clients -----------------------------------------------------------------


class Client:
    """One person's browser (and, for attendance, a facilitator's)."""

    def __init__(self, port, plan, *, name, seed, take_token, cookie):
        """``take_token()`` gives an unused manage token, or None."""
        self.plan = plan
        self.name = name
        self.rng = random.Random(seed)
        self.take_token = take_token
        self.public = load.Visitor(port, prefix=name)
        self.staff = load.Visitor(port, prefix=f"{name}-staff")
        self.staff.cookies[plan["session_cookie"]] = cookie
        self.etags = {}
        self.records = {}
        self.sent = 0
        self.actions = list(ACTIONS)
        self.weights = [ACTIONS[action] for action in self.actions]

    def timed(self, label, visitor, method, path, body=None, headers=None):
        """One request, recorded under ``label``; (status, body) or (None, b"")."""
        record = self.records.setdefault(
            label, {"statuses": Counter(), "latencies": []}
        )
        began = time.perf_counter()
        try:
            status, content = visitor.request(method, path, body, headers)
        except (OSError, http.client.HTTPException) as error:
            record["statuses"][f"error: {type(error).__name__}"] += 1
            return None, b""
        record["latencies"].append((time.perf_counter() - began) * 1000)
        record["statuses"][str(status)] += 1
        return status, content

    def form_token(self, label, visitor, path):
        """GET a page with a form; its CSRF token, or None."""
        status, content = self.timed(label, visitor, "GET", path)
        match = load.TOKEN_INPUT.search(content.decode("utf-8", "replace"))
        return match.group(1) if status == 200 and match else None, content

    def step(self):
        """Do one action, chosen by weight."""
        action = self.rng.choices(self.actions, self.weights)[0]
        getattr(self, f"do_{action}")()

    def do_listing(self):
        """The listing with one or two filters and maybe a later page."""
        filters = self.plan["filters"]
        params = {}
        for name in self.rng.sample(
            ["kind", "setting", "topic"], self.rng.randint(0, 2)
        ):
            if filters[name]:
                params[name] = self.rng.choice(filters[name])
        if self.rng.random() < 0.3:
            params["page"] = self.rng.randint(2, 4)
        query = f"?{urlencode(params)}" if params else ""
        self.timed("listing", self.public, "GET", self.plan["listing_path"] + query)

    def do_search(self):
        """A search of the listing, sometimes with a filter."""
        params = {"q": self.rng.choice(self.plan["search_words"])}
        if self.rng.random() < 0.3:
            params["kind"] = self.rng.choice(self.plan["filters"]["kind"])
        path = f"{self.plan['listing_path']}?{urlencode(params)}"
        self.timed("search", self.public, "GET", path)

    def do_event(self):
        """An event's page."""
        path = self.rng.choice(self.plan["event_paths"])
        self.timed("event page", self.public, "GET", path)

    def do_feed(self):
        """A calendar app polling a feed, with the ETag it last got."""
        path = self.rng.choice(self.plan["feed_paths"])
        etag = self.etags.get(path)
        headers = {"If-None-Match": etag} if etag else None
        status, _ = self.timed("feed", self.public, "GET", path, headers=headers)
        if status == 200 and self.public.headers.get("ETag"):
            self.etags[path] = self.public.headers["ETag"]

    def person(self):
        """The fields a person fills in, with an email never used before."""
        self.sent += 1
        return [
            ("name", "Load Visitor"),
            ("email", f"{self.name}-{self.sent}@load.example.org"),
            ("phone", ""),
            ("support_needs", "A quiet seat near the door, please."),
            ("consent_email", "on"),
            ("website", ""),
        ]

    def do_sign_up(self):
        """Sign up for a popular event (a place or the waitlist)."""
        path = self.rng.choice(self.plan["popular"])
        token, _ = self.form_token("sign-up form", self.public, path)
        if token:
            body = urlencode([("csrfmiddlewaretoken", token), *self.person()])
            self.timed("sign-up POST", self.public, "POST", path, body)

    def do_drop_in(self):
        """Sign up for one or two dates of the drop-in event."""
        path = self.plan["drop_in"]
        token, content = self.form_token("drop-in form", self.public, path)
        dates = SESSION_BOX.findall(content.decode("utf-8", "replace"))
        if token and dates:
            chosen = self.rng.sample(dates, min(len(dates), self.rng.randint(1, 2)))
            fields = [("csrfmiddlewaretoken", token)]
            fields += [("sessions", date) for date in chosen] + self.person()
            self.timed("drop-in POST", self.public, "POST", path, urlencode(fields))

    def do_cancel(self):
        """Cancel a place (or leave a waitlist) through a manage link."""
        manage = self.take_token()
        if manage is None:
            self.do_sign_up()
            return
        path = f"/manage/{manage}/cancel/"
        token, _ = self.form_token("cancel form", self.public, path)
        if token:
            body = urlencode({"csrfmiddlewaretoken": token})
            self.timed("cancel POST", self.public, "POST", path, body)

    def do_attendance(self):
        """A facilitator opening the session and saving a few people's attendance."""
        plan = self.plan["facilitator"]
        token, _ = self.form_token("attendance page", self.staff, plan["session_path"])
        if token:
            people = self.rng.sample(plan["registration_ids"], 6)
            fields = [("csrfmiddlewaretoken", token)]
            fields += [
                (f"status-{pk}", self.rng.choice(ATTENDANCE_STATUSES)) for pk in people
            ]
            self.timed(
                "attendance POST",
                self.staff,
                "POST",
                plan["attendance_path"],
                urlencode(fields),
            )

    def close(self):
        """Close both connections."""
        self.public.close()
        self.staff.close()


def client_loop(client, deadline, limit, done):
    """Act until ``deadline`` (time.monotonic) or about ``limit`` requests."""
    try:
        while time.monotonic() < deadline:
            if (
                sum(sum(r["statuses"].values()) for r in client.records.values())
                >= limit
            ):
                break
            client.step()
    finally:
        client.close()
        done(client)


def client_process(number, port, plan, shares, go, deadline, results):
    """A client process: ``shares`` is one (name, seed, tokens, cookie, limit)
    per thread. Runs in a spawned process; says it is ready, waits for
    ``go`` and puts its records, request span and CPU time on ``results``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    merged, lock = {}, threading.Lock()
    span = {"last": None}
    try:
        clients = []
        for name, seed, tokens, cookie, _limit in shares:
            pool, pool_lock = list(tokens), threading.Lock()

            def take(pool=pool, pool_lock=pool_lock):
                with pool_lock:
                    return pool.pop() if pool else None

            clients.append(
                Client(port, plan, name=name, seed=seed, take_token=take, cookie=cookie)
            )
    except Exception:  # noqa: BLE001 - reported to the parent, which fails the run
        results.put({"ready": False, "error": traceback.format_exc()})
        return
    results.put({"ready": True})
    if not go.wait(timeout=60):
        return
    cpu_began = time.process_time()

    def done(client):
        with lock:
            merge_records(merged, client.records)
            span["last"] = time.monotonic()

    threads = [
        threading.Thread(
            target=client_loop,
            args=(client, deadline.value, share[4], done),
            daemon=True,
        )
        for client, share in zip(clients, shares, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(
            timeout=deadline.value - time.monotonic() + 3 * load.REQUEST_TIMEOUT
        )
    records = {
        name: {"statuses": dict(r["statuses"]), "latencies": r["latencies"]}
        for name, r in merged.items()
    }
    results.put(
        {
            "done": True,
            "records": records,
            "last": span["last"],
            "cpu": time.process_time() - cpu_began,
        }
    )


# The harness -----------------------------------------------------------------


def split(items, parts):
    """``items`` in ``parts`` consecutive slices of (nearly) equal size."""
    size, extra = divmod(len(items), parts)
    slices, start = [], 0
    for n in range(parts):
        end = start + size + (1 if n < extra else 0)
        slices.append(items[start:end])
        start = end
    return slices


def run_level(port, plan, clients, tokens, config, meter):
    """``clients`` clients for ``config["seconds"]``; returns the level's figures."""
    from .signup import collect

    context = multiprocessing.get_context("spawn")
    results, go = context.Queue(), context.Event()
    deadline = context.Value("d", 0.0)
    processes = max(1, min(config["processes"], clients))
    limit = max(1, config["max_requests"] // clients)
    cookies = plan["facilitator"]["cookies"]
    per_client = split(tokens, clients)
    shares = [
        (
            f"c{clients}-{n}-{plan['run_id']}",
            clients * 1000 + n,
            per_client[n],
            cookies[n % len(cookies)],
            limit,
        )
        for n in range(clients)
    ]
    workers = [
        context.Process(
            target=client_process,
            args=(n, port, plan, part),
            kwargs={"go": go, "deadline": deadline, "results": results},
            daemon=True,
        )
        for n, part in enumerate(split(shares, processes))
    ]
    finished = False
    try:
        for worker in workers:
            worker.start()
        for message in collect(results, len(workers), timeout=60):
            if not message.get("ready"):
                raise RuntimeError(f"a client process failed:\n{message.get('error')}")
        began = time.monotonic()
        meter.start(began)
        deadline.value = began + config["seconds"]
        go.set()
        wait = config["seconds"] + 3 * load.REQUEST_TIMEOUT + 10
        summaries = collect(results, len(workers), timeout=wait)
        cpu = meter.stop(time.monotonic(), sum(s["cpu"] for s in summaries))
        finished = True
    finally:
        for worker in workers:
            if worker.pid is None:
                continue
            if finished:
                worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)
    records = {}
    for summary in summaries:
        merge_records(records, summary["records"])
    lasts = [s["last"] for s in summaries if s["last"] is not None]
    seconds = (max(lasts) if lasts else time.monotonic()) - began
    return {
        "clients": clients,
        "processes": processes,
        "summary": summarise(records, seconds, config["target_ms"]),
        "cpu": cpu.describe(0, "request") if cpu else "",
        "ceiling": ceiling(cpu, summarise(records, seconds, 0)["requests"]),
        "other_cpu_share": cpu.share(cpu.foreign) if cpu else None,
    }


def ceiling(cpu, requests):
    """CPU per request (gunicorn, PostgreSQL and the clients) and the
    requests per second this machine's cores would give at that cost if
    nothing else ran; None without CPU figures."""
    if cpu is None or not requests:
        return None
    per_request = (cpu.gunicorn + cpu.postgres + cpu.clients) / requests
    if per_request <= 0:
        return None
    cores = os.cpu_count() or 1
    return {"cpu_ms": 1000 * per_request, "rate": cores / per_request}


def config_from_environment():
    """The load test's settings, from ``LOADTEST_*`` variables."""
    return {
        "database_url": os.environ.get("LOADTEST_DATABASE_URL", "").strip()
        or "postgres://postgres@127.0.0.1:5432/gather_loadtest",
        "redis_url": os.environ.get("LOADTEST_REDIS_URL", "").strip()
        or "redis://127.0.0.1:6379/10",
        "levels": env_levels("LOADTEST_CLIENTS", "1,2,4,8,16"),
        "seconds": env_int("LOADTEST_SECONDS", 20),
        "max_requests": env_int("LOADTEST_MAX_REQUESTS", 20000),
        "processes": env_int("LOADTEST_PROCESSES", 2),
        "workers": env_int("LOADTEST_WORKERS", 4),
        "target_ms": env_int("LOADTEST_TARGET_MS", 300),
        "warmup": env_int("LOADTEST_WARMUP", 5),
    }


def server_environment(config):
    """The environment of the set-up, the checks and gunicorn."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CACHE_URL", "TASKS_BACKEND", "BENCH_SIGNUP_DATABASE_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.bench.loadtest_settings",
        LOADTEST_DATABASE_URL=config["database_url"],
        DATABASE_URL=config["database_url"],
        REDIS_URL=config["redis_url"],
        LOADTEST_MAX_CLIENTS=str(max(config["levels"])),
        DEBUG="false",
    )
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


def run_module(env, *args):
    """``python -m tests.bench.loadtest_setup ARGS... OUTPUT``; its JSON."""
    from .signup import run_json_module

    return run_json_module("tests.bench.loadtest_setup", env, *args)


def other_backends(database_url):
    """A function giving the PIDs of PostgreSQL backends of other databases."""
    import psycopg

    connection = psycopg.connect(database_url, autocommit=True)

    def pids():
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " AND datname IS DISTINCT FROM current_database()"
        )
        return {pid for (pid,) in rows}

    return connection, pids


def machine():
    """The machine, in one line: CPU model, cores, memory, load average."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/meminfo", encoding="utf-8") as info:
            memory = f", {int(info.readline().split()[1]) / 1024**2:.1f} GB RAM"
    load_average = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores{memory}; load average before "
        f"the run {load_average}"
    )


def main():
    """Set up, serve, ramp, check, report; the exit status."""
    from . import signup
    from .cpu import CpuMeter
    from .environment import BENCH_DIR

    config = config_from_environment()
    reason = signup.ensure_database(
        signup.Settings(database_url=config["database_url"])
    )
    if reason:
        log(reason)
        return 2
    env = server_environment(config)
    started = time.time()
    described = machine()
    log("Migrating and building the load test's data...")
    plan = run_module(env, "prepare")
    plan["run_id"] = f"{int(started):x}"
    tokens = plan["tokens"]
    levels = []
    BENCH_DIR.mkdir(exist_ok=True)
    connection, foreign = other_backends(config["database_url"])
    try:
        log(f"Starting gunicorn ({config['workers']} sync workers)...")
        with signup.gunicorn(
            env,
            workers=config["workers"],
            probe_path=plan["listing_path"],
            log_path=BENCH_DIR / "loadtest-gunicorn.log",
            # A machine busy with other work can take a while to start
            # four workers and answer the first listing.
            start_timeout=120,
        ) as server:
            meter = CpuMeter(server.group, foreign)
            if config["warmup"]:
                log(f"  warm-up: 2 clients for {config['warmup']}s...")
                warmup = run_level(
                    server.port,
                    plan,
                    2,
                    [],
                    {**config, "seconds": config["warmup"]},
                    meter,
                )
            remaining = config["levels"]
            for n, clients in enumerate(remaining):
                share = len(tokens) // (len(remaining) - n)
                level_tokens, tokens = tokens[:share], tokens[share:]
                log(f"  {clients} clients for {config['seconds']}s...")
                level = run_level(
                    server.port, plan, clients, level_tokens, config, meter
                )
                levels.append(level)
                summary = level["summary"]
                if summary["errors"] or (summary["p50"] or 0) > config["target_ms"]:
                    log("  stopping the ramp: errors, or half the requests over target")
                    break
    finally:
        connection.close()
    log("Checking the data...")
    checked = run_module(env, "check", json.dumps(plan_file_stub(plan)))
    checked["problems"] += attendance_problems(levels, checked["counts"])
    report = {
        "warmup_errors": warmup["summary"]["errors"] if config["warmup"] else 0,
        "machine": described,
        "config": {k: v for k, v in config.items() if k != "database_url"},
        "levels": levels,
        "checks": checked,
    }
    best = sustained(levels)
    report["sustained_clients"] = best["clients"] if best else None
    with open(BENCH_DIR / "loadtest.json", "w", encoding="utf-8") as file:
        json.dump(report, file, indent=1)
    print(format_report(report, config))  # noqa: T201
    failed = (
        checked["problems"]
        or report["warmup_errors"]
        or any(level["summary"]["errors"] for level in levels)
    )
    return 1 if failed else 0


def attendance_problems(levels, counts):
    """A problem when attendance was saved (302) but no record was written."""
    saved = sum(
        level["summary"]["endpoints"]
        .get("attendance POST", {})
        .get("statuses", {})
        .get("302", 0)
        for level in levels
    )
    if saved and not counts["attendance records"]:
        return [f"{saved} attendance saves answered 302 but wrote no record"]
    return []


def plan_file_stub(plan):
    """What the checks need from the plan (passed inline, as JSON)."""
    return {
        "tasks_backend": plan["tasks_backend"],
        "facilitator": {"session_path": plan["facilitator"]["session_path"]},
    }


def format_report(report, config):
    """The printed report: levels, endpoints, the sustained level, checks."""
    lines = [
        "Gather load test: gunicorn "
        f"({config['workers']} sync workers) + PostgreSQL + Redis, 127.0.0.1",
        f"Machine: {report['machine']}",
        f"Each level {config['seconds']}s (at most {config['max_requests']} "
        f"requests), after a {config['warmup']}s warm-up "
        f"({report['warmup_errors']} errors); target: no errors, the p95 of "
        f"every page and POST under {config['target_ms']} ms.",
    ]
    for level in report["levels"]:
        summary = level["summary"]
        lines.append("")
        lines.append(
            f"{level['clients']} clients ({level['processes']} processes): "
            f"{summary['requests']} requests in {summary['seconds']:.1f}s = "
            f"{summary['rate']:.1f}/s, {summary['errors']} errors"
        )
        lines.append(
            f"  {'endpoint':18s} {'count':>6s} {'p50 ms':>8s} {'p95 ms':>8s}  errors"
        )
        for name, each in summary["endpoints"].items():
            p50 = f"{each['p50']:.0f}" if each["p50"] is not None else "-"
            p95 = f"{each['p95']:.0f}" if each["p95"] is not None else "-"
            flag = "" if each["within_target"] else "  (over target)"
            if not each["held_to_target"]:
                flag = "  (not held to the target)"
            errors = f"{each['errors']}"
            if each["error_statuses"]:
                errors += f" {each['error_statuses']}"
            lines.append(
                f"  {name:18s} {each['count']:6d} {p50:>8s} {p95:>8s}  {errors}{flag}"
            )
        if level["cpu"]:
            lines.append(f"  {level['cpu']}")
        if level.get("ceiling"):
            lines.append(
                f"  CPU per request {level['ceiling']['cpu_ms']:.0f} ms: at most "
                f"{level['ceiling']['rate']:.0f} requests/s on "
                f"{os.cpu_count()} cores if nothing else ran"
            )
        if (level["other_cpu_share"] or 0) > 25:
            lines.append(
                f"  WARNING: other work took {level['other_cpu_share']:.0f}% of a "
                "core meanwhile; these figures are understated."
            )
    lines.append("")
    best = report["sustained_clients"]
    if best:
        rate = next(
            level["summary"]["rate"]
            for level in report["levels"]
            if level["clients"] == best
        )
        lines.append(
            f"Highest load sustained (no errors, the p95 of every page and POST "
            f"under {config['target_ms']} ms): {best} clients, {rate:.1f} requests/s."
        )
    else:
        lines.append("No level met the target.")
    checks = report["checks"]
    counts = ", ".join(f"{value} {name}" for name, value in checks["counts"].items())
    lines.append(f"Data checked: {counts}.")
    if checks["problems"]:
        lines.append("PROBLEMS:")
        lines.extend(f"  {problem}" for problem in checks["problems"])
    else:
        lines.append(
            "No event or date over capacity, every waitlist numbered 1..n, "
            "every confirmed person has a message task."
        )
    return "\n".join(lines)


def run():
    """``main``, with a one-line reason instead of a traceback when the
    set-up, gunicorn or the clients fail (exit 2)."""
    try:
        return main()
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        log(f"The load test did not complete: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(run())
