"""The benchmark table across data scales: growth, query counts, verdicts."""

from tests.bench import runner
from tests.bench.registry import BenchContext, Benchmark
from tests.bench.runner import (
    Query,
    Result,
    Timing,
    format_scaled_table,
    group_by_benchmark,
    round_order,
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


def test_the_scales_take_turns_forwards_then_backwards():
    assert round_order([1, 10], 4) == [1, 10, 10, 1, 1, 10, 10, 1]
    assert round_order([1, 3, 10], 2) == [1, 3, 10, 10, 3, 1]


class _Drifting:
    """Stands in for the clock on a machine that slows down steadily: every
    timed call takes a little longer than the one before, whatever it does."""

    def __init__(self):
        self.calls = 0

    def __call__(self, func, ctx):
        func(ctx)
        self.calls += 1
        return 10.0 + self.calls


def _scaled_run(monkeypatch, *, runs, rounds):
    clock, visited, at = _Drifting(), [], {}
    monkeypatch.setattr(runner, "timed", clock)
    monkeypatch.setattr(runner, "count_queries", lambda func, ctx: [])

    def switch(scale):
        visited.append(scale)
        at["scale"] = scale

    def page(ctx):
        ctx.cache.setdefault("seen", set()).add(at["scale"])
        return "<p>same</p>"

    benchmark = Benchmark(name="page", run=page, floor=page)
    contexts = {1: BenchContext(client=None), 10: BenchContext(client=None)}
    results = runner.run_scaled(
        benchmark, contexts, switch, warmup=2, runs=runs, rounds=rounds
    )
    return results, visited, contexts


def test_drift_during_a_run_does_not_show_as_growth(monkeypatch):
    results, visited, contexts = _scaled_run(monkeypatch, runs=16, rounds=4)
    (growth,) = group_by_benchmark(results)
    assert abs(growth.growth() - 1.0) < 0.02
    assert abs(growth.growth("floor") - 1.0) < 0.02
    assert visited == [1, 10, 1, 10, 1]
    assert [r.scale for r in results] == [1, 10]
    assert [len(r.page.samples) for r in results] == [16, 16]
    assert [len(r.floor.samples) for r in results] == [16, 16]
    # Each scale's requests went to its own context, at its own database.
    assert [ctx.cache["seen"] for ctx in contexts.values()] == [{1}, {10}]


def test_one_round_times_each_scale_in_one_go(monkeypatch):
    results, visited, _ = _scaled_run(monkeypatch, runs=5, rounds=1)
    assert visited == [1, 10]
    assert [len(r.page.samples) for r in results] == [5, 5]
    # Without turns, the drift lands on the larger scale.
    (growth,) = group_by_benchmark(results)
    assert growth.growth() > 1.3


def test_fewer_runs_than_rounds_still_time_every_run(monkeypatch):
    results, _, _ = _scaled_run(monkeypatch, runs=3, rounds=4)
    assert [len(r.page.samples) for r in results] == [3, 3]
