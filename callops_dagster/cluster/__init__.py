"""Cluster mode (docs/deploy.md): the Dagster instance in PostgreSQL, runs on Celery workers.

Pure helpers (``urls``, ``health``, ``worker``, ``relaunch``) decide; ``storage`` and
``launcher`` are the classes ``deploy/dagster.yaml`` names, and ``callops migrate`` / ``callops
worker`` use them; ``sensors`` holds the sensor that runs again a lost day Dagster will not
retry (in the definitions, so this package sits below them in the import layers).
"""
