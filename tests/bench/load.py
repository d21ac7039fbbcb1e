"""HTTP clients for the sign-up benchmark: one visitor, and a load generator.

Standard library only (``http.client``), so the spawned load processes start
quickly and spend as little CPU as possible per request: the load generator
shares the machine's cores with gunicorn and PostgreSQL.

Every visitor first GETs the sign-up page, keeping its ``csrftoken`` cookie
and the form's ``csrfmiddlewaretoken``, then POSTs the form, with a new email
address each time so every sign-up creates a row. gunicorn's sync workers
close the connection after each response; ``http.client`` reconnects by
itself, as a browser would.

Requests go to 127.0.0.1 only, and every loop is bounded by a deadline and a
request count.
"""

import http.client
import re
import signal
import statistics
import threading
import time
import traceback
from collections import Counter
from http.cookies import SimpleCookie
from urllib.parse import urlencode

HOST = "127.0.0.1"
TOKEN_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
#: Seconds one request may take before the client gives up on it.
REQUEST_TIMEOUT = 30


class Visitor:
    """One person's browser: a connection, a CSRF cookie and a form token."""

    def __init__(self, port, *, prefix):
        """Connect lazily to 127.0.0.1:``port``; emails start with ``prefix``."""
        self.connection = http.client.HTTPConnection(
            HOST, port, timeout=REQUEST_TIMEOUT
        )
        self.prefix = prefix
        self.cookies = {}
        self.token = ""
        self.sent = 0
        #: The headers of the last response.
        self.headers = None

    def request(self, method, path, body=None, headers=None):
        """Send one request; return (status, body), keeping any cookies set.

        ``headers`` are sent too (e.g. ``If-None-Match``); the response's
        own are kept in ``self.headers``.
        """
        headers = {"Host": f"{HOST}:{self.connection.port}", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise
        self.headers = response.headers
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            self.cookies.update({key: morsel.value for key, morsel in cookie.items()})
        if response.will_close:
            self.connection.close()
        return response.status, content

    def open_form(self, path):
        """GET the sign-up form, keeping its CSRF cookie and token."""
        status, content = self.request("GET", path)
        match = TOKEN_INPUT.search(content.decode("utf-8", "replace"))
        if status != 200 or match is None or "csrftoken" not in self.cookies:
            raise RuntimeError(f"GET {path} gave {status} without a CSRF token")
        self.token = match.group(1)

    def form_data(self):
        """The fields a person fills in, with an email address never used before."""
        self.sent += 1
        return urlencode(
            {
                "csrfmiddlewaretoken": self.token,
                "name": "Bench Visitor",
                "email": f"{self.prefix}-{self.sent}@bench.example.org",
                "phone": "",
                "support_needs": "A quiet seat near the door, please.",
                "consent_email": "on",
                "website": "",
            }
        )

    def post_form(self, path):
        """POST the form once; return (status, milliseconds)."""
        body = self.form_data()
        began = time.perf_counter()
        status, _ = self.request("POST", path, body)
        return status, (time.perf_counter() - began) * 1000

    def close(self):
        """Close the connection."""
        self.connection.close()


def client_thread(visitor, path, deadline, limit, record):
    """POST until ``deadline`` (time.monotonic) or ``limit`` requests."""
    statuses, latencies = Counter(), []
    first = last = None
    try:
        while len(latencies) < limit and time.monotonic() < deadline:
            began = time.monotonic()
            try:
                status, ms = visitor.post_form(path)
            except (OSError, http.client.HTTPException) as error:
                statuses[f"error: {type(error).__name__}"] += 1
                continue
            first = began if first is None else first
            last = time.monotonic()
            statuses[str(status)] += 1
            latencies.append(ms)
    finally:
        visitor.close()
        record(statuses, latencies, first, last)


def load_process(number, port, targets, prefix, limit, go, deadline, results):
    """A load process: one visitor per ``targets`` entry, POSTing together.

    Runs in a spawned process. ``targets`` holds a (form path, POST path)
    pair per visitor (thread): each visitor GETs its form first; then the
    process says it is ready and waits for ``go``; ``deadline`` (a shared
    ``time.monotonic`` value, the same clock in every process on Linux) is
    set before ``go``. Puts one summary dict on ``results``, with the
    process's own CPU time from ``go`` on.
    """
    # Ctrl+C is the harness's to handle: it stops this process if need be.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    summary = {"statuses": Counter(), "latencies": [], "first": None, "last": None}
    lock = threading.Lock()

    def record(statuses, latencies, first, last):
        with lock:
            summary["statuses"].update(statuses)
            summary["latencies"].extend(latencies)
            for key, value, pick in (("first", first, min), ("last", last, max)):
                if value is not None:
                    old = summary[key]
                    summary[key] = value if old is None else pick(old, value)

    try:
        visitors = [
            Visitor(port, prefix=f"{prefix}-p{number}-t{n}")
            for n in range(len(targets))
        ]
        for visitor, (form_path, _post_path) in zip(visitors, targets, strict=True):
            visitor.open_form(form_path)
    except Exception:  # noqa: BLE001 - reported to the parent, which fails the run
        results.put({"ready": False, "error": traceback.format_exc()})
        return
    results.put({"ready": True})
    if not go.wait(timeout=60):
        return
    cpu_began = time.process_time()
    workers = [
        threading.Thread(
            target=client_thread,
            args=(visitor, post_path, deadline.value, limit, record),
            daemon=True,
        )
        for visitor, (_form_path, post_path) in zip(visitors, targets, strict=True)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=deadline.value - time.monotonic() + 2 * REQUEST_TIMEOUT)
    summary["statuses"] = dict(summary["statuses"])
    summary["cpu"] = time.process_time() - cpu_began
    results.put({"done": True, **summary})


def percentile(values, fraction):
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe_latencies(latencies):
    """``p50 12.3 ms, p95 45.6 ms`` for a list of milliseconds."""
    if not latencies:
        return "no responses"
    return (
        f"p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {percentile(latencies, 0.95):.1f} ms"
    )
