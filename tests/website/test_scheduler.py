"""The scheduled jobs run when due (website/scheduler.py) and the command
that runs them (run_scheduled_jobs), on a frozen clock."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from website import scheduler
from website.management.commands import run_scheduled_jobs
from website.scheduler import JOBS, RETRY_AFTER, Job, Schedule

TORONTO = ZoneInfo("America/Toronto")


def at(day, hour, minute=0):
    """An aware time in Toronto on a day of December 2026."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TORONTO)


def names(jobs):
    return [job.command for job in jobs]


FREQUENT = [
    "send_reminders",
    "send_due_messages",
    "expire_place_offers",
    "purge_import_jobs",
    "purge_export_jobs",
]
DAILY = [
    "top_up_series",
    "apply_retention",
    "send_staff_digest",
    "update_query_statistics",
    "rebuild_attendance_tallies",
]


def run_all(schedule, now):
    for job in schedule.due(now):
        schedule.record(job, ok=True, at=now)


def test_every_job_is_due_at_start():
    assert names(Schedule().due(at(1, 9))) == FREQUENT + DAILY


def test_frequent_jobs_are_due_every_ten_minutes_and_daily_ones_once_a_day():
    schedule = Schedule()
    run_all(schedule, at(1, 9))
    assert schedule.due(at(1, 9, 9)) == []
    assert names(schedule.due(at(1, 9, 10))) == FREQUENT
    run_all(schedule, at(1, 9, 10))
    # Late in the evening the daily jobs have still run today.
    assert names(schedule.due(at(1, 23, 59))) == FREQUENT


def test_daily_jobs_are_due_on_the_first_pass_after_local_midnight():
    schedule = Schedule()
    run_all(schedule, at(1, 23, 55))
    assert names(schedule.due(at(2, 0, 1))) == DAILY
    assert names(schedule.due(at(2, 0, 5))) == FREQUENT + DAILY


def test_the_local_date_decides_not_utc():
    schedule = Schedule()
    run_all(schedule, at(1, 18))  # 23:00 UTC
    # 00:30 UTC on the 2nd is 19:30 on the 1st in Toronto.
    after_utc_midnight = dt.datetime(2026, 12, 2, 0, 30, tzinfo=dt.UTC)
    assert names(schedule.due(after_utc_midnight)) == FREQUENT


def test_a_failed_job_is_tried_again_after_ten_minutes():
    schedule = Schedule()
    retention = next(job for job in JOBS if job.command == "apply_retention")
    run_all(schedule, at(1, 9))
    schedule.record(retention, ok=False, at=at(2, 0, 5))
    assert "apply_retention" not in names(schedule.due(at(2, 0, 14)))
    assert "apply_retention" in names(schedule.due(at(2, 0, 5) + RETRY_AFTER))
    schedule.record(retention, ok=True, at=at(2, 0, 15))
    assert "apply_retention" not in names(schedule.due(at(2, 20)))


def test_next_due_is_the_earliest_job():
    schedule = Schedule()
    assert schedule.next_due(at(1, 9)) == at(1, 9)
    run_all(schedule, at(1, 9))
    assert schedule.next_due(at(1, 9, 1)) == at(1, 9, 10)
    only_daily = Schedule(jobs=(Job("apply_retention", daily=True),))
    run_all(only_daily, at(1, 9))
    assert only_daily.next_due(at(1, 9, 1)) == at(2, 0)


def test_a_job_runs_either_every_interval_or_daily():
    with pytest.raises(ValueError):
        Job("send_reminders")
    with pytest.raises(ValueError):
        Job("send_reminders", every=dt.timedelta(minutes=1), daily=True)


@pytest.fixture
def no_connections(monkeypatch):
    monkeypatch.setattr(run_scheduled_jobs, "close_old_connections", lambda: None)


def test_the_command_uses_the_clock(monkeypatch, no_connections):
    ran = []
    monkeypatch.setattr(
        run_scheduled_jobs, "call_command", lambda name, *args, **kw: ran.append(name)
    )
    schedule = Schedule()
    command = run_scheduled_jobs.Command()
    with time_machine.travel(at(1, 9), tick=False) as clock:
        assert command.run_due(schedule) == 0
        assert ran == FREQUENT + DAILY
        ran.clear()
        clock.shift(dt.timedelta(minutes=5))
        command.run_due(schedule)
        assert ran == []
        clock.shift(dt.timedelta(minutes=5))
        command.run_due(schedule)
        assert ran == FREQUENT


def test_a_failing_job_does_not_stop_the_others(monkeypatch, no_connections):
    def fake(name, *args, **kw):
        if name == "send_reminders":
            raise RuntimeError("boom")

    monkeypatch.setattr(run_scheduled_jobs, "call_command", fake)
    schedule = Schedule()
    with time_machine.travel(at(1, 9), tick=False):
        assert run_scheduled_jobs.Command().run_due(schedule) == 1
    assert set(schedule.succeeded) == set(FREQUENT + DAILY) - {"send_reminders"}
    assert set(schedule.failed) == {"send_reminders"}


@pytest.mark.django_db
def test_once_runs_the_real_jobs():
    # Every job the schedule names exists and runs on an empty database.
    assert {job.command for job in scheduler.JOBS} == set(FREQUENT + DAILY)
    call_command("run_scheduled_jobs", "--once")
