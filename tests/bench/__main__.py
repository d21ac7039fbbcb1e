"""``python -m tests.bench``: build the bench databases if needed, run, print.

Environment variables (see also ``environment``):

* ``BENCH_SCALES``: data sizes as multiples of the base size (default
  ``1,10``: 1,000 events and 5,000 sessions, then 10,000 and 50,000). The
  benchmarks that read the data run once per scale, and the table shows each
  one's median at every scale, the growth from the smallest to the largest
  (target 1.5x at most) and the query count at each (target: no more). The
  others run once, against the first scale's database.
* ``BENCH_RUNS``: measured rounds per benchmark (default 15).
* ``BENCH_WARMUP``: warm-up rounds per benchmark (default 3).
* ``BENCH_SCALE_ROUNDS``: with several scales, how many turns each scale
  takes per benchmark (default 4). The measured runs are split between the
  turns and the scales alternate in ABBA order (1x, 10x, 10x, 1x, ...), so
  the machine getting slower or faster during the run does not show up as
  growth.
* ``BENCH_ONLY``: run only benchmarks whose name contains this text, or
  any of several separated by ``|`` (``events listing|site feed``).
* ``BENCH_EXPLAIN=1``: also list every query with its template and code line.
* ``BENCH_STRICT=1``: exit 1 when a target fails, growth targets included
  (default: always exit 0).

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
    "tests.bench.admin",
]


def log(message):
    """Progress output, on stderr so the table stays clean on stdout."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def main():
    """Run every registered benchmark and print the table; returns exit code."""
    began = time.perf_counter()
    configs = environment.configure()

    import django

    django.setup()

    from django.test import Client
    from django.test.utils import override_settings

    from .registry import BENCHMARKS, BenchContext
    from .runner import (
        format_report,
        format_scaled_table,
        format_table,
        group_by_benchmark,
        run_benchmark,
        run_scaled,
    )

    for module in BENCHMARK_MODULES:
        importlib.import_module(module)
    only = [part.lower() for part in os.environ.get("BENCH_ONLY", "").split("|")]
    selected = [b for b in BENCHMARKS if any(p in b.name.lower() for p in only)]
    several = len(configs) > 1
    runs = environment.env_int("BENCH_RUNS", 15)
    warmup = environment.env_int("BENCH_WARMUP", 3)

    rounds = environment.env_int("BENCH_SCALE_ROUNDS", 4)

    # Build (or find) every scale's data first, so the timed rounds below can
    # move between the databases.
    built, needed = [], set()
    for n, config in enumerate(configs):
        batch = [b for b in selected if n == 0 or b.scaled]
        if any(b.needs_data for b in batch):
            environment.use(config)
            built.append((config, environment.prepare(config, log)))
            needed.add(config.scale)
    by_scale = {config.scale: config for config in configs}
    environment.use(configs[0])

    results = []
    # The public cache stays off except where a benchmark turns it on
    # (tests.bench.public_cache): the others measure pages being built.
    with override_settings(
        ROOT_URLCONF="tests.bench.urls", GATHER_PUBLIC_CACHE_SECONDS=0
    ):
        # One client and one store of looked-up ids per scale's database.
        contexts = {
            config.scale: BenchContext(client=Client(HTTP_HOST="localhost"))
            for config in configs
        }
        first = contexts[configs[0].scale]
        for benchmark in selected:
            if not (several and benchmark.scaled):
                log(f"Running {benchmark.name}...")
                results.append(
                    run_benchmark(benchmark, first, warmup=warmup, runs=runs)
                )
        for benchmark in selected:
            if several and benchmark.scaled:
                log(f"Running {benchmark.name} at every scale in turn...")
                results.extend(
                    run_scaled(
                        benchmark,
                        {s: contexts[s] for s in by_scale if s in needed},
                        lambda scale: environment.use(by_scale[scale]),
                        warmup=warmup,
                        runs=runs,
                        rounds=rounds,
                    )
                )

    versions = f"Python {platform.python_version()}, Django {django.get_version()}"
    header = [f"Gather benchmarks; {versions}"]
    for config, generated in built:
        data = f"generated in {generated:.1f}s" if generated is not None else "reused"
        header.append(
            f"{config.label}: {config.description} ({data}), "
            f"database {config.database_label}"
        )
    header += [
        f"{runs} measured runs after {warmup} warm-up, page and floor alternating",
        *(
            [
                f"Scaled rows: the scales take turns, {rounds} rounds in ABBA "
                "order (1x, 10x, 10x, 1x, ...), the runs split between them"
            ]
            if several
            else []
        ),
        "",
    ]
    growths = group_by_benchmark(results) if several else []
    table = (
        format_scaled_table(results, [c.scale for c in configs])
        if several
        else format_table(results)
    )
    explain = os.environ.get("BENCH_EXPLAIN") == "1"
    report = format_report(results, explain=explain, growths=growths)
    lines = [*header, *table, *report]
    lines.append(f"\nTotal time {time.perf_counter() - began:.1f}s.")
    print("\n".join(lines))  # noqa: T201

    if any(result.problems for result in results):
        return 2
    verdicts = [ok for result in results for _, ok in result.verdicts()]
    verdicts += [ok for growth in growths for _, ok in growth.verdicts()]
    if not all(verdicts) and os.environ.get("BENCH_STRICT") == "1":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
