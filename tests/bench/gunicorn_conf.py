"""gunicorn hooks for the sign-up benchmark: stop when the harness is gone.

The harness stops gunicorn itself (``tests.bench.signup``); this is the
safety net for when the harness dies without cleaning up (SIGKILL): the
master checks once a second that its parent is still there, and stops itself
after ``BENCH_SIGNUP_SERVER_MAX_SECONDS`` (default 600) whatever happens.
"""

import os
import signal
import threading
import time


def when_ready(server):
    """Start the watchdog thread in the gunicorn master."""
    parent = os.getppid()
    limit = float(os.environ.get("BENCH_SIGNUP_SERVER_MAX_SECONDS") or 600)
    stop_at = time.monotonic() + limit

    def watch():
        while os.getppid() == parent and time.monotonic() < stop_at:
            time.sleep(1)
        server.log.warning("Bench harness gone or time is up: stopping gunicorn.")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="bench-watchdog", daemon=True).start()
