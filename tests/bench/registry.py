"""The list of benchmarks and the record that describes one.

A benchmark is a callable that does one request and returns the HTML it got;
its floor is another such callable for the bare-minimum version of the same
page. Modules add theirs with ``register`` at import time::

    register(
        Benchmark(
            name="events listing",
            run=listing,
            floor=listing_floor,
            check=same_sessions,
        )
    )

A benchmark that cannot be timed through the test client (the sign-up POST
runs against gunicorn and PostgreSQL) gives ``execute`` instead of ``run``:
it measures everything itself and returns a ``runner.Result``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BenchContext:
    """What every benchmark and floor is given: one shared test client."""

    client: Any
    #: Values a benchmark module computes once and reuses (URLs, page ids).
    cache: dict[str, Any] = field(default_factory=dict)

    def get(self, path, **extra):
        """GET ``path``; fail unless it answers 200; return the HTML."""
        response = self.client.get(path, **extra)
        if response.status_code != 200:
            raise AssertionError(f"GET {path} answered {response.status_code}")
        return response.content.decode()


#: Does one request and returns the HTML it got.
RunFunc = Callable[[BenchContext], str]
#: Compares page HTML with floor HTML; returns problems, empty when they agree.
CheckFunc = Callable[[str, str], list[str]]
#: Measures a whole benchmark by itself; returns a ``runner.Result``.
ExecuteFunc = Callable[[BenchContext], Any]


@dataclass(frozen=True)
class Benchmark:
    """One timed page, optionally paired with a floor and targets.

    ``max_ratio`` is the most the page's median may be as a multiple of the
    floor's median; ``query_limit`` is the number of SQL queries the page must
    stay under. Either may be None for no target.

    ``execute``, given instead of ``run``, measures the benchmark its own way
    and returns a ``runner.Result``. ``needs_data`` says whether it reads the
    generated events data, so a run of only other benchmarks can skip it.

    A benchmark that reads the generated data runs once per scale of it
    (``BENCH_SCALES``) unless ``per_scale`` is False (its work does not
    depend on how much data there is, like the PDFs built from a fixture of
    their own). ``max_growth`` is the most its median may be at the largest
    scale as a multiple of its median at the smallest, or None for no
    target; its query count must not grow at all.
    """

    name: str
    run: RunFunc | None = None
    floor: RunFunc | None = None
    check: CheckFunc | None = None
    max_ratio: float | None = 1.5
    query_limit: int | None = 15
    description: str = ""
    execute: ExecuteFunc | None = None
    needs_data: bool = True
    #: The most the page's median may take, in milliseconds, or None.
    max_median_ms: float | None = None
    #: Whether it runs once per data scale (when it ``needs_data``).
    per_scale: bool = True
    #: The most its median may grow from the smallest scale to the largest.
    max_growth: float | None = 1.5

    @property
    def scaled(self):
        """Whether it runs at every scale rather than once."""
        return self.needs_data and self.per_scale

    def __post_init__(self):
        """Exactly one of ``run`` and ``execute``."""
        if (self.run is None) == (self.execute is None):
            raise ValueError(f"{self.name!r} needs exactly one of run and execute.")


#: Every registered benchmark, in the order they run and print.
BENCHMARKS: list[Benchmark] = []


def register(benchmark):
    """Add ``benchmark`` to the run; names must be unique. Returns it."""
    if any(existing.name == benchmark.name for existing in BENCHMARKS):
        raise ValueError(f"A benchmark named {benchmark.name!r} already exists.")
    BENCHMARKS.append(benchmark)
    return benchmark
