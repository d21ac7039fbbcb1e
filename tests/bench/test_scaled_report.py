"""The benchmark table across data scales: growth, query counts, verdicts."""

from tests.bench.registry import Benchmark
from tests.bench.runner import (
    Query,
    Result,
    Timing,
    format_scaled_table,
    group_by_benchmark,
)


def _run(benchmark, scale, ms, queries):
    page = Timing(samples=[ms, ms], queries=[Query(sql="SELECT 1")] * queries)
    floor = Timing(samples=[ms / 2] * 2, queries=[])
    return Result(benchmark, page, floor, [], True, scale=scale)


def _noop(ctx):
    return ""


def test_growth_within_target_and_queries_constant_pass():
    listing = Benchmark(name="listing", run=_noop)
    results = [_run(listing, 1, 10.0, 9), _run(listing, 10, 14.0, 9)]
    (growth,) = group_by_benchmark(results)
    assert growth.growth() == 1.4
    assert [ok for _, ok in growth.verdicts()] == [True, True]
    table = "\n".join(format_scaled_table(results, [1, 10]))
    assert "1.40x" in table and "PASS <=1.5x" in table


def test_growth_past_target_or_more_queries_fail():
    slow = Benchmark(name="slow", run=_noop)
    results = [_run(slow, 1, 10.0, 9), _run(slow, 10, 29.0, 10)]
    (growth,) = group_by_benchmark(results)
    assert [ok for _, ok in growth.verdicts()] == [False, False]
    assert "FAIL <=1.5x" in "\n".join(format_scaled_table(results, [1, 10]))


def test_a_benchmark_run_once_shows_one_median_and_no_growth():
    pdf = Benchmark(name="pdf", run=_noop, per_scale=False)
    once = _run(pdf, None, 50.0, 3)
    assert group_by_benchmark([once]) == []
    row = next(
        line for line in format_scaled_table([once], [1, 10]) if line.startswith("pdf")
    )
    cells = [cell.strip() for cell in row.split("|")]
    assert cells[1:4] == ["50.00", "", "once"]
