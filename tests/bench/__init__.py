"""Gather's benchmark harness: ``make bench`` (``python -m tests.bench``).

Each benchmark times one public page with the Django test client and pairs it
with a *floor*: a bare function view that renders the same template from the
same rows with the fewest hand-written queries. Page and floor runs alternate,
so machine noise hits both alike, and the table reports each page's median as
a ratio of its floor's. The benchmarks that read the generated data run at
each data size of ``BENCH_SCALES`` (1x and 10x by default, one database
each), and the table also shows how each median and query count grows.

Modules:

* ``registry``: the ``Benchmark`` record and the list every benchmark joins.
* ``environment``: the throwaway databases (one per scale) and their data.
* ``runner``: timing, query counting, sanity checks and the printed table.
* ``floors`` and ``urls``: the floor views and the URLconf that routes them.
* ``pages``: the events listing and event detail benchmarks.
* ``signup``: the sign-up POST benchmark, over HTTP against gunicorn and
  PostgreSQL, with ``signup_setup`` (its database, in a subprocess),
  ``settings`` and ``gunicorn_conf`` (its server), ``load`` (its HTTP
  clients) and ``cpu`` (where the CPU went).
* ``loadtest``: ``make loadtest``, a mixed load on gunicorn, PostgreSQL and
  Redis with checks of the data afterwards (not part of ``make bench``),
  with ``loadtest_setup`` (its data and checks, in subprocesses) and
  ``loadtest_settings``; it reuses ``signup``'s server and ``load``'s
  client.

To add benchmarks, write a module that calls ``registry.register`` and list
it in ``BENCHMARK_MODULES`` in ``__main__``.
"""
