"""``python -m tests.bench``: build the bench database if needed, run, print.

Environment variables (see also ``environment``):

* ``BENCH_RUNS``: measured rounds per benchmark (default 15).
* ``BENCH_WARMUP``: warm-up rounds per benchmark (default 3).
* ``BENCH_ONLY``: run only benchmarks whose name contains this text.
* ``BENCH_EXPLAIN=1``: also list every query with its template and code line.
* ``BENCH_STRICT=1``: exit 1 when a target fails (default: always exit 0).

The sign-up benchmark (``BENCH_ONLY=sign-up``) runs against gunicorn and
PostgreSQL instead; ``signup`` lists its own settings. Without PostgreSQL it
prints why it was skipped and the rest still runs.

A sanity-check failure (a floor not showing what its page shows) exits 2,
whatever ``BENCH_STRICT`` says: the timings would not compare like with like.
"""

import importlib
import os
import platform
import sys
import time

from . import environment

#: Modules that register benchmarks; later features add theirs here.
BENCHMARK_MODULES = [
    "tests.bench.pages",
    "tests.bench.calendar",
    "tests.bench.pdfs",
    "tests.bench.signup",
    "tests.bench.spreadsheets",
    "tests.bench.group_message",
    "tests.bench.public_cache",
    "tests.bench.reports",
]


def log(message):
    """Progress output, on stderr so the table stays clean on stdout."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def main():
    """Run every registered benchmark and print the table; returns exit code."""
    began = time.perf_counter()
    config = environment.configure()

    import django

    django.setup()

    from django.test import Client
    from django.test.utils import override_settings

    from .registry import BENCHMARKS, BenchContext
    from .runner import format_report, format_table, run_benchmark

    for module in BENCHMARK_MODULES:
        importlib.import_module(module)
    only = os.environ.get("BENCH_ONLY", "")
    selected = [b for b in BENCHMARKS if only.lower() in b.name.lower()]
    needs_data = any(b.needs_data for b in selected)
    generated = environment.prepare(config, log) if needs_data else None
    runs = environment.env_int("BENCH_RUNS", 15)
    warmup = environment.env_int("BENCH_WARMUP", 3)

    results = []
    # The public cache stays off except where a benchmark turns it on
    # (tests.bench.public_cache): the others measure pages being built.
    with override_settings(
        ROOT_URLCONF="tests.bench.urls", GATHER_PUBLIC_CACHE_SECONDS=0
    ):
        ctx = BenchContext(client=Client(HTTP_HOST="localhost"))
        for benchmark in selected:
            log(f"Running {benchmark.name}...")
            results.append(run_benchmark(benchmark, ctx, warmup=warmup, runs=runs))

    data = f"generated in {generated:.1f}s" if generated is not None else "reused"
    versions = f"Python {platform.python_version()}, Django {django.get_version()}"
    if needs_data:
        header = [
            f"Gather benchmarks: {config.events} events, {config.sessions} sessions "
            f"({data}), database {config.database_label}",
            f"{runs} measured runs after {warmup} warm-up, page and floor "
            f"alternating; {versions}",
            "",
        ]
    else:
        header = [f"Gather benchmarks; {versions}", ""]
    explain = os.environ.get("BENCH_EXPLAIN") == "1"
    lines = [*header, *format_table(results), *format_report(results, explain=explain)]
    lines.append(f"\nTotal time {time.perf_counter() - began:.1f}s.")
    print("\n".join(lines))  # noqa: T201

    if any(result.problems for result in results):
        return 2
    failed = any(not ok for result in results for _, ok in result.verdicts())
    if failed and os.environ.get("BENCH_STRICT") == "1":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
