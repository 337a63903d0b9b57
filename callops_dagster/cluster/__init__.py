"""Cluster mode (docs/deploy.md): the Dagster instance in PostgreSQL, runs on Celery workers.

Pure helpers (``urls``, ``health``, ``worker``) decide; ``storage`` and ``launcher`` are the
classes ``deploy/dagster.yaml`` names, and ``callops migrate`` / ``callops worker`` use them.
"""
