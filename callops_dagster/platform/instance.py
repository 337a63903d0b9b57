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

No public way exists to do this, so it overrides private members of Dagster's SQLite event log
(``RELIED_ON`` names every piece of Dagster it replaces or calls). It is guarded both ways
(docs/dagster-internals.md):

- the tests (test_dagster_internals.py) fail the day one of those pieces differs from the
  pinned Dagster's;
- at run time, ``CallopsSqliteStorage`` checks the same once per process; when one differs it
  logs one WARNING and is Dagster's stock ``DagsterSqliteStorage``, unchanged: slower, never
  broken, never silently.

``callops`` writes ``platform/home.INSTANCE_YAML`` into a new instance folder, and the
Makefile's ``.dagster_home/dagster.yaml`` holds the same storage block (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import sqlalchemy
from sqlalchemy.engine import Connection, Engine
from watchdog.events import FileSystemEvent, PatternMatchingEventHandler
from watchdog.observers import Observer

# Dagster's stock storage classes: what ``storage: sqlite:`` is, and what this falls back to.
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage

from callops_dagster.platform.dagster_internals import PINNED_DAGSTER, changed, resolve

log = logging.getLogger(__name__)

# Databases whose engines stay open: the index and the runs being written or read. A webserver
# reading many runs' logs keeps no more than this many files open for them.
KEPT_ENGINES = 8
SQLITE_BUSY_TIMEOUT_SECONDS = 30  # as Dagster's own SQLite storages wait for a locked database

_SQLITE = "dagster._core.storage.event_log.sqlite.sqlite_event_log"
# Every piece of Dagster the kept-connection event log replaces, calls or reads, with the
# fingerprint of its source in the pinned Dagster (``dagster_internals.fingerprint``).
RELIED_ON = {
    # sets _base_dir, _obs, _watchers, _initialized_dbs, _db_lock; writes the index on a new folder
    f"{_SQLITE}:SqliteEventLogStorage.__init__": "356ed5a4155fda7a",
    f"{_SQLITE}:SqliteEventLogStorage._connect": "32c43750d4b7e288",  # replaced by KeptConnections._connect
    f"{_SQLITE}:SqliteEventLogStorage._initdb": "fa90ce47c910448b",  # called on a database's first connection
    f"{_SQLITE}:SqliteEventLogStorage.conn_string_for_shard": "43e171247db29fe4",
    f"{_SQLITE}:SqliteEventLogStorage.watch": "3aa0c404e4c0ec6c",  # replaced: also follows the write-ahead log
    f"{_SQLITE}:SqliteEventLogStorage.end_watch": "2e8f84d2e58ca409",  # reads the _watchers watch() fills
    f"{_SQLITE}:SqliteEventLogStorage.wipe": "478ea8e9d68c189b",  # deletes the files the kept engines hold
    f"{_SQLITE}:SqliteEventLogStorage.dispose": "e1056de5cff65bb7",
    f"{_SQLITE}:SqliteEventLogStorageWatchdog.__init__": "75012c23eae09ced",  # made by _RunLogWatch
    f"{_SQLITE}:SqliteEventLogStorageWatchdog._process_log": "e7b1158f9b0d8ee8",  # what a change triggers
    # builds the stock event log this one replaces (_event_log_storage)
    "dagster._core.storage.sqlite_storage:DagsterSqliteStorage.__init__": "c97bec75cbbed38d",
    "dagster._core.storage.sqlite_storage:DagsterSqliteStorage.event_log_storage": "673042b3c70a5870",
}


@functools.cache
def kept_connections_problem() -> str | None:
    """Why the kept-connection event log cannot be used with this Dagster (None: it can). Checked
    once per process; when it cannot, one WARNING says so."""
    problems = changed(RELIED_ON)
    if not problems:
        return None
    problem = (
        f"callops' kept-connection event log (callops_dagster/platform/instance.py) is off: Dagster "
        f"{dg.__version__} differs from {PINNED_DAGSTER} in {'; '.join(problems)}. The instance "
        "uses Dagster's stock SQLite storage (each event write opens a connection: slower, "
        "correct); see docs/dagster-internals.md"
    )
    log.warning(problem)
    return problem


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


class _RunLogWatch(PatternMatchingEventHandler):
    """Dagster's watchdog of a run's database, told of changes to its write-ahead log as well:
    over a kept connection a commit writes ``<run>.db-wal`` and leaves ``<run>.db`` alone, which
    is all Dagster's watchdog looks at."""

    def __init__(self, storage: SqliteEventLogStorage, run_id: str, callback: Callable, cursor: str | None):
        watchdog = resolve(f"{_SQLITE}:SqliteEventLogStorageWatchdog")
        self.dagsters = watchdog(storage, run_id, callback, cursor)
        path = storage.path_for_shard(run_id)
        super().__init__(patterns=[path, path + "-wal"])

    def on_created(self, event: FileSystemEvent) -> None:
        self.dagsters._process_log()

    def on_modified(self, event: FileSystemEvent) -> None:
        self.dagsters._process_log()


class KeptConnectionsSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` whose statements run over one engine per shard, kept (the
    ``KEPT_ENGINES`` most recently used) instead of an engine made and disposed per statement."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        # Before the parent's constructor: on a new folder it already writes the index.
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = sqlalchemy.create_engine(
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

    def watch(self, run_id: str, cursor: str | None, callback: Callable) -> None:
        """As Dagster's, but a run's new events are noticed in its write-ahead log too (the UI's
        live run log would stand still)."""
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        handler = _RunLogWatch(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (handler, self._obs.schedule(handler, self._base_dir, recursive=True))

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
    """``DagsterSqliteStorage`` (``base_dir``: the instance folder) with the kept-connection
    event log; exactly Dagster's when ``kept_connections_problem()`` says it cannot be used."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        super().__init__(base_dir, inst_data)
        if kept_connections_problem() is None:
            stock = self._event_log_storage
            self._event_log_storage = KeptConnectionsSqliteEventLogStorage(stock._base_dir)
            stock.dispose()

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"base_dir": dg.StringSource}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> CallopsSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
