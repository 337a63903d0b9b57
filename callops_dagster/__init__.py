"""callops: daily loan-collections call reporting as Dagster software-defined assets."""
