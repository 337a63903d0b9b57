"""``make bench``: the project's transform chain against DuckDB SQL, the CSV-read floor and Dagster."""
