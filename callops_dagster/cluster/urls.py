"""The instance's PostgreSQL URL, as SQLAlchemy and dagster-postgres need it.

SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3, which is not installed (and with
which dagster-postgres's queries fail: ``syntax error at or near "$1"``); dagster-postgres is
built on psycopg2. ``DAGSTER_PG_URL`` is the ordinary ``postgresql://user@host:port/db`` (or
``postgres://``) a user copies from their database; the storage names the driver.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from callops_dagster.platform.storage import redacted  # re-exported: the one password-hiding rule

DRIVER_SCHEME = "postgresql+psycopg2"
BARE_SCHEMES = ("postgresql", "postgres")


class PostgresUrlError(ValueError):
    """DAGSTER_PG_URL is not a PostgreSQL URL."""


def psycopg2_url(url: str) -> str:
    """``url`` with the psycopg2 driver named: ``postgresql://`` and ``postgres://`` become
    ``postgresql+psycopg2://``; user, password, host, port, database and query are kept as
    written; a URL that already names a driver (``postgresql+...://``) is left alone."""
    text = url.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme.startswith("postgresql+"):
        return text
    if scheme not in BARE_SCHEMES:
        raise PostgresUrlError(
            f"DAGSTER_PG_URL must be a PostgreSQL URL (postgresql://user:password@host:5432/db), "
            f"not {redacted(text)!r}"
        )
    return urlunsplit(parts._replace(scheme=DRIVER_SCHEME))
