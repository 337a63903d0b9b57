"""The ``dagster.yaml`` of an instance folder the project makes (no dagster import: the
``callops`` command writes it before it loads Dagster)."""

INSTANCE_YAML = """\
telemetry:
  enabled: false
# Dagster's SQLite storage under this folder, its event log writing over kept connections
# (callops_dagster/platform/instance.py).
storage:
  custom:
    module: callops_dagster.platform.instance
    class: CallopsSqliteStorage
    config:
      base_dir:
        env: DAGSTER_HOME
"""
