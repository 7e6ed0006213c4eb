"""Benchmark tooling: a generator of realistic clinics and the measurements ``manage.py bench`` runs.

It sits at the top of the dependency chain, beside ``privacy`` and ``api``: it may import every
clinical app, and nothing imports it.  It is installed only by its own settings module,
``benchmarks.settings``, which ``make bench`` and the benchmark's worker processes use; the
running clinic neither loads nor needs it.
"""
