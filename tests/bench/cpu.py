"""CPU time by party during a throughput phase, read from ``/proc`` (Linux).

The load generator, gunicorn and PostgreSQL share the machine's cores, and
so does anything else that happens to run (a test suite, an editor). To make
a sign-ups-per-second figure interpretable, the harness reports how much CPU
each party used during the phase, and the CPU per sign-up:

* ``gunicorn``: every process in gunicorn's process group (master, workers);
* ``PostgreSQL``: every ``postgres`` process except client backends of other
  databases (so the bench's backends and the shared background processes);
* ``clients``: the load processes' own CPU time, which they report;
* ``other programs``: every other process still running at the end (a test
  suite, an editor, PostgreSQL backends of other databases);
* ``unattributed``: the rest of the machine's busy time, charged to no
  running process: the kernel's share of the loopback traffic, and programs
  that ended during the phase (short test runs, for instance).

A rate measured while other programs were busy is understated; the harness
says so (``foreign``: other programs plus the unattributed time, which is
a few percent when the machine is otherwise idle).

Where ``/proc`` is missing, ``CpuMeter.start`` returns False and nothing is
reported.
"""

import os
from dataclasses import dataclass

PROC = "/proc"


def machine_busy():
    """Busy CPU seconds since boot, summed over all cores."""
    with open(f"{PROC}/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:9]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def processes():
    """{pid: (name, parent pid, process group, CPU seconds)} for every process."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in os.listdir(PROC):
        if not entry.isdigit():
            continue
        try:
            with open(f"{PROC}/{entry}/stat", encoding="utf-8", errors="replace") as f:
                data = f.read()
        except OSError:  # the process ended meanwhile
            continue
        name = data[data.index("(") + 1 : data.rindex(")")]
        fields = data[data.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        found[int(entry)] = (name, int(fields[1]), int(fields[2]), cpu)
    return found


@dataclass
class CpuUse:
    """CPU seconds each party used over ``seconds`` of wall time."""

    seconds: float
    gunicorn: float
    postgres: float
    clients: float
    other: float
    kernel: float

    @property
    def foreign(self):
        """CPU seconds not spent on the benchmark (an upper bound)."""
        return self.other + self.kernel

    def share(self, cpu):
        """``cpu`` seconds as a percentage of one core over the phase."""
        return 100 * cpu / self.seconds if self.seconds > 0 else 0.0

    def describe(self, requests, noun):
        """One line: each party's share, and CPU per request where it counts."""
        parts = [
            ("gunicorn", self.gunicorn),
            ("PostgreSQL", self.postgres),
            ("clients", self.clients),
            ("other programs", self.other),
            ("unattributed", self.kernel),
        ]
        shares = ", ".join(f"{name} {self.share(cpu):.0f}%" for name, cpu in parts)
        line = f"CPU ({os.cpu_count()} cores = {100 * os.cpu_count()}%): {shares}"
        if requests:
            per = (
                f"gunicorn {1000 * self.gunicorn / requests:.1f} ms, "
                f"PostgreSQL {1000 * self.postgres / requests:.1f} ms, "
                f"clients {1000 * self.clients / requests:.1f} ms"
            )
            line += f"; per {noun}: {per}"
        return line


class CpuMeter:
    """Measures CPU use between ``start`` and ``stop``."""

    def __init__(self, gunicorn_group, foreign_postgres):
        """``foreign_postgres()`` gives PIDs of other databases' backends."""
        self.gunicorn_group = gunicorn_group
        self.foreign_postgres = foreign_postgres
        self.before = None

    def start(self, now):
        """Take the first reading; False when ``/proc`` cannot be read."""
        try:
            self.before = (now, machine_busy(), processes(), self.foreign_postgres())
        except (OSError, ValueError, IndexError):
            self.before = None
        return self.before is not None

    def stop(self, now, clients_cpu):
        """CPU used since ``start``, or None when it could not be read."""
        if self.before is None:
            return None
        began, busy, before, foreign = self.before
        try:
            busy = machine_busy() - busy
            after = processes()
            foreign = foreign | self.foreign_postgres()
        except (OSError, ValueError, IndexError):
            return None
        gunicorn = postgres = other = charged = 0.0
        harness = os.getpid()
        for pid, (name, parent, group, cpu) in after.items():
            used = cpu - before[pid][3] if pid in before else cpu
            if group == self.gunicorn_group:
                gunicorn += used
            elif name.startswith("postgres") and pid not in foreign:
                postgres += used
            elif harness in (pid, parent):
                # The harness and its load processes (which report their own).
                charged += used if pid == harness else 0.0
            else:
                other += used
        kernel = busy - gunicorn - postgres - clients_cpu - other - charged
        return CpuUse(now - began, gunicorn, postgres, clients_cpu, other, kernel)
