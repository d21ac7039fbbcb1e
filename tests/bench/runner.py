"""Run benchmarks against their floors and print the table.

For each benchmark: one request each to check the page and its floor show the
same content, a few warm-up rounds, then measured rounds in which page and
floor alternate (ABBA order), so slow spells on the machine hit both alike.
Queries are counted in a separate, untimed request with
``CaptureQueriesContext``; each query's origin (template tag and project code
line) is recorded too, so repeated per-row queries can be traced to a line.

Benchmarks with an ``execute`` function (the sign-up POST) measure themselves
and hand back a ``Result`` with extra notes and targets, or the reason they
were skipped; the table and report print those alongside the others.
"""

import gc
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection
from django.template.base import Node
from django.test.utils import CaptureQueriesContext

from .environment import BASE_DIR

#: Code under these folders is not "ours" when tracing a query to its origin.
LIBRARY_DIRS = (str(BASE_DIR / ".venv"), sys.prefix, sys.base_prefix)
#: The harness's own frames are skipped too, except floor views.
HARNESS_DIR = str(Path(__file__).resolve().parent)
#: Library code too generic to say where a query came from.
QUIET_LIBRARY_PARTS = ("django/db/", "django/utils/", "django/template/")
#: A query shape seen this often in one request is flagged as repeated.
REPEAT_THRESHOLD = 3


@dataclass
class Query:
    """One SQL query a request made, and where it came from."""

    sql: str
    template: str = ""
    code: str = ""
    ms: float = 0.0

    @property
    def shape(self):
        """The SQL with literal values blanked, to spot the same query repeated."""
        sql = re.sub(r"'(?:[^']|'')*'", "?", self.sql)
        sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
        return re.sub(r"\((?:\s*\?\s*,)+\s*\?\s*\)", "(?...)", sql)

    @property
    def origin(self):
        """Template location and project code line, where known."""
        return " | ".join(part for part in (self.template, self.code) if part)


class QueryRecorder:
    """An execute wrapper that records each query with its origin."""

    def __init__(self):
        """Start with no queries."""
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        """Record the query, then run it and note how long it took."""
        query = Query(sql=sql, **locate(sys._getframe(1)))
        self.queries.append(query)
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            query.ms = (time.perf_counter() - began) * 1000


def locate(frame):
    """The innermost template node, project code line and library line.

    The library line (outside Django's ORM) is kept when it is nearer the
    query than any template or project code, e.g. for queries Wagtail makes
    while routing: then it reads ``library line via project line`` (the
    project line may be only a middleware passing the request on).
    """
    template = code = library = ""
    while frame is not None and not (template and code):
        filename = frame.f_code.co_filename
        if not template:
            template = template_location(frame)
        if not code and is_project_code(filename):
            code = code_location(frame, Path(filename).relative_to(BASE_DIR))
        if not (library or template or code) and filename.startswith(LIBRARY_DIRS):
            relative = library_path(filename)
            if relative and not relative.startswith(QUIET_LIBRARY_PARTS):
                library = code_location(frame, relative)
        frame = frame.f_back
    if library and code:
        code = f"{library} via {code}"
    return {"template": template, "code": code or ("" if template else library)}


def template_location(frame):
    """``template:line {% tag %}`` when ``frame`` renders a template node."""
    node = frame.f_locals.get("self")
    if frame.f_code.co_name != "render_annotated" or not isinstance(node, Node):
        return ""
    if node.origin is None:
        return ""
    name = node.origin.template_name or node.origin.name
    token = node.token
    if token.token_type.name == "VAR":
        return f"{name}:{token.lineno} {{{{ {token.contents} }}}}"
    return f"{name}:{token.lineno} {{% {token.contents} %}}"


def is_project_code(filename):
    """Whether ``filename`` is Gather's code (floor views count; the harness not)."""
    if not filename.startswith(str(BASE_DIR)) or filename.startswith(LIBRARY_DIRS):
        return False
    in_harness = filename.startswith(HARNESS_DIR)
    return not in_harness or Path(filename).name.startswith("floors")


def library_path(filename):
    """``filename`` relative to site-packages or the standard library."""
    for pattern in (r"site-packages/(.+)$", r"lib/python3\.\d+/(.+)$"):
        if match := re.search(pattern, filename):
            return match.group(1)
    return ""


def code_location(frame, path):
    """``path:line in function`` for ``frame``."""
    return f"{path}:{frame.f_lineno} in {frame.f_code.co_name}"


@dataclass
class Timing:
    """Measured times (ms) and the queries of one page or floor."""

    samples: list[float] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)

    @property
    def median(self):
        """Median time in milliseconds."""
        return statistics.median(self.samples)

    @property
    def repeated(self):
        """(count, example query) for query shapes repeated in one request."""
        counts = Counter(query.shape for query in self.queries)
        seen = {}
        for query in self.queries:
            seen.setdefault(query.shape, query)
        return [
            (count, seen[shape])
            for shape, count in counts.most_common()
            if count >= REPEAT_THRESHOLD
        ]


@dataclass
class Result:
    """A benchmark's page and floor timings, checks and target verdicts."""

    benchmark: object
    page: Timing
    floor: Timing | None
    problems: list[str]
    identical_html: bool | None
    #: Lines printed under the table (how it was measured, throughput).
    notes: list[str] = field(default_factory=list)
    #: Targets besides the ratio and query limit: (description, passed).
    extra_verdicts: list[tuple[str, bool]] = field(default_factory=list)
    #: What the sanity check confirmed, when it is not an HTML comparison.
    sanity: str = ""
    #: Why there are no timings (``skipped: ...`` or ``failed: ...``), or "".
    skipped: str = ""
    #: The data scale it ran at, when the run covers several; else None.
    scale: int | None = None

    @property
    def label(self):
        """The benchmark's name, with its scale when there is one."""
        name = self.benchmark.name
        return name if self.scale is None else f"{name} ({self.scale}x)"

    @property
    def ratio(self):
        """Page median over floor median, or None without a floor."""
        if self.floor is None or self.skipped:
            return None
        return self.page.median / self.floor.median

    def verdicts(self):
        """(description, passed) for each of the benchmark's targets."""
        bench, verdicts = self.benchmark, []
        if self.skipped:
            return verdicts
        if bench.max_ratio is not None and self.ratio is not None:
            verdicts.append(
                (
                    f"median {self.ratio:.2f}x floor (target <= {bench.max_ratio}x)",
                    self.ratio <= bench.max_ratio,
                )
            )
        if bench.max_median_ms is not None:
            verdicts.append(
                (
                    f"median {self.page.median:.1f} ms "
                    f"(target under {bench.max_median_ms:g} ms)",
                    self.page.median < bench.max_median_ms,
                )
            )
        if bench.query_limit is not None:
            count = len(self.page.queries)
            verdicts.append(
                (
                    f"{count} queries (target under {bench.query_limit})",
                    count < bench.query_limit,
                )
            )
        return verdicts + self.extra_verdicts


def timed(func, ctx):
    """Milliseconds one call of ``func(ctx)`` takes."""
    began = time.perf_counter()
    func(ctx)
    return (time.perf_counter() - began) * 1000


#: Logged by Django for transactions, but not run through execute wrappers.
TRANSACTION_STATEMENTS = {"BEGIN", "COMMIT", "ROLLBACK"}


def count_queries(func, ctx):
    """Run ``func(ctx)`` once, untimed, and return the queries it made.

    BEGIN, COMMIT and ROLLBACK (which Django logs on PostgreSQL) are not
    counted as queries.
    """
    recorder = QueryRecorder()
    with CaptureQueriesContext(connection) as captured:
        with connection.execute_wrapper(recorder):
            func(ctx)
    logged = [
        query
        for query in captured.captured_queries
        if query["sql"] not in TRANSACTION_STATEMENTS
    ]
    if len(logged) != len(recorder.queries):
        raise AssertionError("Query recorder and CaptureQueriesContext disagree.")
    return recorder.queries


def run_benchmark(benchmark, ctx, *, warmup, runs):
    """Check, warm up, then time the page and its floor in alternation.

    A benchmark with ``execute`` runs that instead, with its own settings.
    """
    if benchmark.execute is not None:
        return benchmark.execute(ctx)
    page, floor = Timing(), Timing() if benchmark.floor else None
    page_html = benchmark.run(ctx)
    problems, identical = [], None
    if benchmark.floor:
        floor_html = benchmark.floor(ctx)
        identical = normalise(page_html) == normalise(floor_html)
        if benchmark.check:
            problems = benchmark.check(page_html, floor_html)
    pairs = [(benchmark.run, page)]
    if floor is not None:
        pairs.append((benchmark.floor, floor))
    for _ in range(warmup):
        for func, _timing in pairs:
            func(ctx)
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(runs):
            for func, timing in pairs if i % 2 == 0 else reversed(pairs):
                timing.samples.append(timed(func, ctx))
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    for func, timing in pairs:
        timing.queries = count_queries(func, ctx)
    return Result(benchmark, page, floor, problems, identical)


def round_order(scales, rounds):
    """The scales to visit, in order: ``rounds`` rounds, each visiting every
    scale once, forwards in even rounds and backwards in odd ones (ABBA:
    1x, 10x, 10x, 1x, ...), so a slow spell or a drift over the run weighs
    on every scale alike instead of on whichever ran last."""
    order = []
    for n in range(rounds):
        order.extend(scales if n % 2 == 0 else reversed(scales))
    return order


def run_scaled(benchmark, contexts, switch, *, warmup, runs, rounds):
    """Time ``benchmark`` at every scale, the scales taking turns.

    ``contexts`` maps each scale, smallest first, to its ``BenchContext``;
    ``switch(scale)`` points Django at that scale's database. The ``runs``
    measured rounds are split over ``rounds`` visits per scale in
    ``round_order``; each visit checks the page, warms up (fully on the
    first visit, one round after that, as a switch starts a new connection)
    and times its share. Returns one ``Result`` per scale with the samples
    of all its visits; its queries are those of the visit that made the
    most, so a count that varies is never under-reported.
    """
    scales = list(contexts)
    rounds = max(1, min(rounds, runs))
    shares = [runs // rounds + (1 if n < runs % rounds else 0) for n in range(rounds)]
    merged, current = {}, None
    for visit, scale in enumerate(round_order(scales, rounds)):
        if scale != current:
            switch(scale)
            current = scale
        first = scale not in merged
        result = run_benchmark(
            benchmark,
            contexts[scale],
            warmup=warmup if first else min(warmup, 1),
            runs=shares[visit // len(scales)],
        )
        if first:
            result.scale = scale
            merged[scale] = result
        else:
            _merge(merged[scale], result)
    return [merged[scale] for scale in scales]


def _merge(into, result):
    """Add ``result``'s samples and problems to ``into`` (same benchmark and
    scale); keep the larger set of queries."""
    for part in ("page", "floor"):
        kept, more = getattr(into, part), getattr(result, part)
        if kept is None or more is None:
            continue
        kept.samples.extend(more.samples)
        if len(more.queries) > len(kept.queries):
            kept.queries = more.queries
    into.problems.extend(p for p in result.problems if p not in into.problems)
    if result.identical_html is False:
        into.identical_html = False


def normalise(html):
    """HTML with runs of whitespace collapsed, for an identity check."""
    return re.sub(r"\s+", " ", html).strip()


def format_table(results):
    """The results table as lines of text."""
    header = ("name", "median ms", "min", "max", "queries", "ratio to floor")
    rows = []
    for result in results:
        if result.skipped:
            continue
        timings = [(result.benchmark.name, result.page, result.ratio)]
        if result.floor is not None:
            timings.append(("  floor", result.floor, None))
        for name, timing, ratio in timings:
            rows.append(
                (
                    name,
                    f"{timing.median:.2f}",
                    f"{min(timing.samples):.2f}",
                    f"{max(timing.samples):.2f}",
                    str(len(timing.queries)),
                    f"{ratio:.2f}x" if ratio is not None else "",
                )
            )
    skipped = [(r.benchmark.name, r.skipped) for r in results if r.skipped]
    widths = [
        max(len(row[i]) for row in [header, *rows, *((n, "") for n, _ in skipped)])
        if i == 0
        else max(len(row[i]) for row in [header, *rows])
        for i in range(6)
    ]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [
            cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)
        ]
        return " | ".join([first, *rest]).rstrip()

    lines = [line(header), "-+-".join("-" * w for w in widths), *map(line, rows)]
    lines.extend(f"{name.ljust(widths[0])} | {reason}" for name, reason in skipped)
    return lines


@dataclass
class Growth:
    """One benchmark's results at each scale, smallest first, and how its
    median and query count grow between the smallest and the largest."""

    benchmark: object
    results: list[Result]

    @property
    def measured(self):
        """The results that have timings."""
        return [result for result in self.results if not result.skipped]

    def growth(self, part="page"):
        """Largest scale's median over the smallest's, or None."""
        measured = self.measured
        if len(measured) < 2:
            return None
        first, last = getattr(measured[0], part), getattr(measured[-1], part)
        if first is None or last is None:
            return None
        return last.median / first.median

    def verdicts(self):
        """(description, passed): the median's growth and the query count."""
        measured = self.measured
        if len(measured) < 2:
            return []
        first, last = measured[0], measured[-1]
        span = f"{last.scale}x data vs {first.scale}x"
        verdicts = []
        limit = self.benchmark.max_growth
        if limit is not None:
            growth = self.growth()
            verdicts.append(
                (
                    f"median {growth:.2f}x at {span} (target <= {limit}x)",
                    growth <= limit,
                )
            )
        counts = [len(result.page.queries) for result in measured]
        verdicts.append(
            (
                "queries "
                + ", ".join(
                    f"{n} at {r.scale}x" for n, r in zip(counts, measured, strict=True)
                )
                + " (target: no more as the data grows)",
                counts[-1] <= counts[0],
            )
        )
        return verdicts


def group_by_benchmark(results):
    """``Growth`` per benchmark that ran at more than one scale."""
    groups = {}
    for result in results:
        groups.setdefault(result.benchmark.name, []).append(result)
    return [
        Growth(runs[0].benchmark, sorted(runs, key=lambda r: r.scale or 0))
        for runs in groups.values()
        if len(runs) > 1
    ]


def format_scaled_table(results, scales):
    """The results table for several scales: per benchmark (and floor) the
    median at each scale, the growth from the smallest to the largest and
    its verdict, the query count and the ratio to the floor at each scale.
    Benchmarks that ran once show one median and ``once``."""
    labels = [f"{scale}x" for scale in scales]
    span = f"{labels[-1]}/{labels[0]}"
    header = (
        "name",
        *(f"{label} ms" for label in labels),
        span,
        "growth",
        *(f"q {label}" for label in labels),
        *(f"floor {label}" for label in labels),
    )
    by_name = {}
    for result in results:
        by_name.setdefault(result.benchmark.name, {})[result.scale] = result
    rows, skipped = [], []
    for name, runs in by_name.items():
        measured = {scale: r for scale, r in runs.items() if not r.skipped}
        if not measured:
            skipped.append((name, next(iter(runs.values())).skipped))
            continue
        growth = Growth(next(iter(runs.values())).benchmark, list(measured.values()))
        once = len(runs) == 1
        rows.append(_scaled_row(name, measured, scales, growth, once, "page"))
        if any(r.floor is not None for r in measured.values()):
            rows.append(_scaled_row("  floor", measured, scales, growth, once, "floor"))
    width = len(header)
    widths = [
        max(len(row[i]) for row in [header, *rows, *((n, "") for n, _ in skipped)])
        if i == 0
        else max(len(row[i]) for row in [header, *rows])
        for i in range(width)
    ]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [
            cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)
        ]
        return " | ".join([first, *rest]).rstrip()

    lines = [line(header), "-+-".join("-" * w for w in widths), *map(line, rows)]
    lines.extend(f"{name.ljust(widths[0])} | {reason}" for name, reason in skipped)
    return lines


def _scaled_row(name, measured, scales, growth, once, part):
    """One table row: the page's (``part="page"``) or its floor's figures."""
    medians, queries, ratios = [], [], []
    for scale in scales:
        if once:
            # Shown under the first scale, the database it ran against.
            result = next(iter(measured.values())) if scale == scales[0] else None
        else:
            result = measured.get(scale)
        timing = getattr(result, part) if result is not None else None
        medians.append(f"{timing.median:.2f}" if timing else "")
        queries.append(str(len(timing.queries)) if timing else "")
        ratio = result.ratio if result is not None and part == "page" else None
        ratios.append(f"{ratio:.2f}x" if ratio is not None else "")
    if once:
        grown, verdict = "once", ""
    else:
        value = growth.growth(part)
        grown = f"{value:.2f}x" if value is not None else ""
        limit = growth.benchmark.max_growth
        verdict = ""
        if part == "page" and value is not None and limit is not None:
            verdict = "PASS" if value <= limit else "FAIL"
            verdict += f" <={limit:g}x"
    return (name, *medians, grown, verdict, *queries, *ratios)


def target_lines(results, growths):
    """The targets and each one's PASS or FAIL."""
    lines = ["", "Targets: each page within its ratio of the floor's median and"]
    lines.append("under its query limit (default 1.5x and 15 queries).")
    if growths:
        lines.append("With several scales: each median at the largest within its")
        lines.append(
            "growth target of the smallest's (default 1.5x), and no more queries."
        )
    verdicts = [
        (result.label, verdict) for result in results for verdict in result.verdicts()
    ]
    verdicts += [
        (growth.benchmark.name, verdict)
        for growth in growths
        for verdict in growth.verdicts()
    ]
    for name, (text, passed) in verdicts:
        lines.append(f"  {'PASS' if passed else 'FAIL'}  {name}: {text}")
    return lines


def format_report(results, *, explain=False, growths=()):
    """Notes, targets, sanity checks and repeated queries, as lines of text.

    ``growths`` (``Growth``) add their targets when several scales ran.
    """
    lines = []
    for result in results:
        if result.notes:
            lines.extend(["", *result.notes])
    lines.extend(target_lines(results, growths))
    lines.append("")
    for result in results:
        name = result.label
        if result.problems:
            lines.extend(f"  SANITY FAIL  {name}: {p}" for p in result.problems)
        elif result.sanity:
            lines.append(f"  sanity ok  {name}: {result.sanity}")
        elif result.floor is None:
            continue
        else:
            same = "identical HTML" if result.identical_html else "same sessions"
            lines.append(f"  sanity ok  {name}: floor renders {same}")
    for result in results:
        for label, timing in (("", result.page), (" floor", result.floor)):
            if timing is None:
                continue
            for count, query in timing.repeated:
                lines.append(
                    f"  REPEATED x{count}  {result.label}{label}: "
                    f"{query.sql[:100]}... from {query.origin or '?'}"
                )
    if explain:
        lines.extend(explain_queries(results))
    return lines


def explain_queries(results):
    """Every query of every page and floor, with its origin."""
    lines = []
    for result in results:
        for label, timing in (("", result.page), (" floor", result.floor)):
            if timing is None:
                continue
            total = sum(query.ms for query in timing.queries)
            lines.append("")
            lines.append(
                f"Queries: {result.label}{label} "
                f"({len(timing.queries)} queries, {total:.1f} ms executing; "
                "SQLite counts only up to the first row)"
            )
            for n, query in enumerate(timing.queries, start=1):
                origin = query.origin or "(origin unknown)"
                lines.append(f"  {n:2d}. {query.ms:6.2f} ms  {origin}")
                lines.append(f"      {query.sql[:300]}")
    return lines
