"""Dagster wiring: thin assets and checks over ``callops_dagster.transforms``."""
