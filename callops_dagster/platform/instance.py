"""The laptop instance's storage: Dagster's SQLite storage, with the event log's connections reused.

Dagster's ``SqliteEventLogStorage`` makes a new SQLAlchemy engine, and so a new SQLite
connection, for every statement: a day's run writes ~230 events (each asset event twice, in its
run's database and in the index), and on this 2-core machine an event cost 3.5-9 ms that way
against 1.5 ms over a kept connection (benchmarks/RESULTS.md). ``CallopsSqliteStorage`` is the
stock ``DagsterSqliteStorage`` (same folders, same files, same schema: an instance made before
reads the same history) whose event log keeps one engine per database it writes, the few most
recently used, for the life of the process, and commits without waiting for the disk in WAL
mode (``synchronous=NORMAL``: never a corrupt database, nothing lost when a process is killed;
a power cut may lose the last events). Together: ~0.6 ms an event instead of 3.5-9.

``callops`` writes ``platform/home.INSTANCE_YAML`` into a new instance folder, and the
Makefile's ``.dagster_home/dagster.yaml`` holds the same storage block (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator

from dagster._config import StringSource
from dagster._core.event_api import EventHandlerFn
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
import sqlalchemy
from sqlalchemy.engine import Connection, Engine
from watchdog.events import FileSystemEvent
from watchdog.observers import Observer

# Databases whose engines stay open: the index and the runs being written or read. A webserver
# reading many runs' logs keeps no more than this many files open for them.
KEPT_ENGINES = 8
SQLITE_BUSY_TIMEOUT_SECONDS = 30  # as Dagster's own SQLite storages wait for a locked database



def _commit_without_fsync_in_wal(connection, _record) -> None:
    """``synchronous=NORMAL`` on a connection to a database in WAL mode (Dagster creates every
    event-log database so): a commit no longer waits for the disk (2.8 -> 0.5-0.8 ms an event
    here). SQLite's guarantee in WAL mode: the database is never corrupted, and a committed
    event survives the process being killed; only a power cut or an OS crash may lose the last
    events written before it. A database in another journal mode keeps Dagster's setting."""
    cursor = connection.cursor()
    try:
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class _RunLogWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watchdog of a run's database, told of changes to its write-ahead log as well."""

    def __init__(self, storage: SqliteEventLogStorage, run_id: str, callback: EventHandlerFn, cursor: str | None):
        super().__init__(storage, run_id, callback, cursor)
        self._patterns = [self._log_path, self._log_path + "-wal"]  # PatternMatchingEventHandler's list

    def on_created(self, event: FileSystemEvent) -> None:
        self._process_log()

    def on_modified(self, event: FileSystemEvent) -> None:
        self._process_log()


class KeptConnectionsSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` whose statements run over one engine per shard, kept (the
    ``KEPT_ENGINES`` most recently used) instead of an engine made and disposed per statement."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        # Before the parent's constructor: on a new folder it already writes the index.
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
                )
                sqlalchemy.event.listen(engine, "connect", _commit_without_fsync_in_wal)
            self._engines[shard] = engine
            while len(self._engines) > KEPT_ENGINES:
                self._engines.popitem(last=False)[1].dispose()
            return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)  # creates the database in WAL mode when it is new
                engine.dispose()  # so the kept connections are opened on the database as it now is
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def watch(self, run_id: str, cursor: str | None, callback: EventHandlerFn) -> None:
        """As Dagster's, but a run's new events are noticed in its write-ahead log too: over a
        kept connection a commit writes ``<run>.db-wal`` and leaves ``<run>.db`` alone, which is
        all Dagster's watchdog looks at (the UI's live run log would stand still)."""
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _RunLogWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))

    def _close_engines(self) -> None:
        with self._engines_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_engines()  # the run databases' files are deleted: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_engines()


class CallopsSqliteStorage(DagsterSqliteStorage):
    """``DagsterSqliteStorage`` (``base_dir``: the instance folder) with the kept-connection event log."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        super().__init__(base_dir, inst_data)
        self._event_log_storage = KeptConnectionsSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def config_type(cls):
        return {"base_dir": StringSource}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> CallopsSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
