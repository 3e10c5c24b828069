"""The data folder's record database: SQLite in WAL mode, written one changed record at a time.

The store used to rewrite its whole state as one JSON file twice a second, under its lock, so the
cost of every change grew with the number of jobs ever run (11 MB after 11,000 jobs). Here each
flush writes only the records that changed since the last one, in one transaction: a crash
(even `kill -9` in the middle of a write) leaves the last committed flush, and nothing older than
it is ever rewritten. WAL with `synchronous=NORMAL` makes a commit an append to the log without
an fsync; it survives a killed process, and only a power cut can lose the last commits.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

DATABASE_NAME = "state.sqlite3"
LEGACY_STATE_NAME = "state.json"

_SCHEMA = (
    # A rowid table: its bodies (about 1 KB a job) would make a WITHOUT ROWID one deeper and
    # slower to update as it grows (26 vs 61 us an update at 100 vs 10,000 rows; 21 vs 15 here).
    "CREATE TABLE IF NOT EXISTS records ("
    " id INTEGER PRIMARY KEY, collection TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,"
    " body TEXT NOT NULL, UNIQUE (collection, key))",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
)

# (collection, key, seq, JSON body) to write; (collection, key) to delete.
Upsert = tuple[str, str, int, str]
Deletion = tuple[str, str]


class RecordDatabase:
    """One SQLite file of JSON records keyed by (collection, key), plus the id sequence."""

    def __init__(self, root: Path) -> None:
        self.path = root / DATABASE_NAME
        self._lock = threading.Lock()  # one connection, shared by the saver thread and close()
        self._connection = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            connection = self._connect()
            connection.execute("SELECT count(*) FROM records").fetchone()
            return connection
        except sqlite3.DatabaseError as error:
            # A damaged file should not stop the demo; keep it aside and start empty.
            backup = self.path.with_name(self.path.name + ".damaged")
            with contextlib.suppress(OSError):
                self.path.replace(backup)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(OSError):
                    self.path.with_name(self.path.name + suffix).unlink()
            print(
                f"replicate-sim: could not read {self.path} ({error}); saved as {backup}",
                file=sys.stderr,
            )
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            connection.execute(statement)
        return connection

    def is_empty(self) -> bool:
        with self._lock:
            row = self._connection.execute("SELECT 1 FROM records LIMIT 1").fetchone()
        return row is None

    def read(self) -> tuple[int, dict[str, list[dict[str, Any]]]]:
        """The saved sequence number and every record by collection, oldest first."""
        records: dict[str, list[dict[str, Any]]] = {}
        with self._lock:
            row = self._connection.execute("SELECT value FROM meta WHERE name = 'seq'").fetchone()
            rows = self._connection.execute(
                "SELECT collection, body FROM records ORDER BY seq, key"
            ).fetchall()
        for collection, body in rows:
            records.setdefault(collection, []).append(json.loads(body))
        return (int(row[0]) if row else 0), records

    def write(self, *, seq: int | None, upserts: list[Upsert], deletions: list[Deletion]) -> None:
        """Apply one flush atomically: all of it or, after a crash, none of it."""
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                if deletions:
                    connection.executemany(
                        "DELETE FROM records WHERE collection = ? AND key = ?", deletions
                    )
                if upserts:
                    connection.executemany(
                        "INSERT INTO records (collection, key, seq, body) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (collection, key) DO UPDATE "
                        "SET seq = excluded.seq, body = excluded.body",
                        upserts,
                    )
                if seq is not None:
                    connection.execute(
                        "INSERT INTO meta (name, value) VALUES ('seq', ?) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        (str(seq),),
                    )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def read_legacy_state(root: Path) -> dict[str, Any] | None:
    """The `state.json` of a data folder written before the database, if there is one."""
    target = root / LEGACY_STATE_NAME
    if not target.exists():
        return None
    try:
        return json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"replicate-sim: could not read {target} ({error}); ignored", file=sys.stderr)
        return None


def retire_legacy_state(root: Path) -> None:
    """Keep the imported `state.json` aside, so it is neither imported twice nor lost."""
    target = root / LEGACY_STATE_NAME
    with contextlib.suppress(OSError):
        target.replace(target.with_name(LEGACY_STATE_NAME + ".imported"))
