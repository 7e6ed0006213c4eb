"""Benchmark tooling: a generator of realistic clinics and the measurements ``manage.py bench`` runs.

It lives in treatments because treatments sits at the bottom of the dependency chain and may
import every other app.  Nothing here is used by the running clinic.
"""
