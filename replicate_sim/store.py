"""In-memory state with optional persistence to a data folder.

All records live in dictionaries guarded by one re-entrant lock (`Store.lock`). With a data
folder, every change to a record (an attribute assigned, a record added, replaced or removed) is
noted, and a background thread writes just those records to `state.sqlite3`
(`persistence.RecordDatabase`) a moment later, so the cost of a change does not grow with the
number of jobs, and a restart with the same `--data-dir` keeps uploaded files, trained models and
past predictions. Binary content (uploads, output images, training photos, weights) lives in
files next to it, never in the database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import persistence

TERMINAL = frozenset({"succeeded", "failed", "canceled"})


class _Tracked:
    """Base of the records: assigning an attribute notes the record for the next save.

    Changes must be assignments (`model.version_ids = [...]`), not in-place edits of a list or
    dict, which no one would notice.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        tracked = self.__dict__.get("_tracked_as")
        if tracked is not None:
            note, collection, key = tracked
            note(collection, key)


@dataclass
class FileRecord(_Tracked):
    id: str
    name: str
    content_type: str
    size: int
    md5: str
    sha256: str
    metadata: dict[str, Any]
    created_at: float
    seq: int


@dataclass
class VersionRecord(_Tracked):
    id: str
    model: str  # "owner/name"
    kind: str  # schemas.*_KIND
    created_at: float
    cog_version: str
    seq: int
    trigger_word: str = "TOK"
    training_id: str | None = None  # set on versions the simulator trained itself


@dataclass
class ModelRecord(_Tracked):
    owner: str
    name: str
    visibility: str
    hardware: str
    created_at: float
    seq: int
    description: str | None = None
    github_url: str | None = None
    paper_url: str | None = None
    license_url: str | None = None
    cover_image_url: str | None = None
    run_count: int = 0
    official: bool = False
    version_ids: list[str] = field(default_factory=list)  # oldest first

    @property
    def key(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class JobRecord(_Tracked):
    """A prediction or a training: both share the envelope and the state machine."""

    kind: str  # "prediction" | "training"
    id: str
    model: str
    version: str  # 64-hex id, or "hidden" for official models
    version_ref: str  # the real VersionRecord id used to run it
    input: dict[str, Any]
    params: dict[str, Any]  # validated input with defaults
    created_at: float
    seq: int
    status: str = "starting"
    logs: str = ""
    output: Any = None
    error: str | None = None
    started_at: float | None = None
    completed_at: float | None = None
    data_removed: bool = False
    webhook: str | None = None
    webhook_completed: str | None = None
    webhook_events_filter: list[str] | None = None
    destination: str | None = None  # trainings
    deadline: float | None = None  # Cancel-After
    output_files: list[str] = field(default_factory=list)
    # How this run will go, decided at creation (durations, forced outcome, error text, seed).
    plan: dict[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


_RECORD_TYPES: dict[str, type[Any]] = {
    "files": FileRecord,
    "versions": VersionRecord,
    "models": ModelRecord,
    "jobs": JobRecord,
}
_FIELDS = {name: {f.name for f in dataclasses.fields(cls)} for name, cls in _RECORD_TYPES.items()}


def _record_from(collection: str, data: dict[str, Any]) -> Any:
    """A record from its saved fields; fields a newer or older version wrote are ignored."""
    known = _FIELDS[collection]
    return _RECORD_TYPES[collection](**{k: v for k, v in data.items() if k in known})


def _record_key(collection: str, record: Any) -> str:
    return record.key if collection == "models" else record.id


class _Collection(dict):  # type: ignore[type-arg]
    """The records of one kind by key; adding, replacing or removing one notes its key."""

    def __init__(self, name: str, note: Callable[[str, str], None] | None) -> None:
        super().__init__()
        self.name = name
        self._note = note

    def load(self, key: str, record: Any) -> None:
        """Add a record read from the database (nothing to save)."""
        dict.__setitem__(self, key, record)
        self._attach(key, record)

    def _attach(self, key: str, record: Any) -> None:
        if self._note is not None:
            object.__setattr__(record, "_tracked_as", (self._note, self.name, key))

    @staticmethod
    def _detach(record: Any) -> None:
        record.__dict__.pop("_tracked_as", None)

    def __setitem__(self, key: str, record: Any) -> None:
        previous = dict.get(self, key)
        if previous is not None and previous is not record:
            self._detach(previous)
        dict.__setitem__(self, key, record)
        self._attach(key, record)
        if self._note is not None:
            self._note(self.name, key)

    def __delitem__(self, key: str) -> None:
        self._detach(dict.pop(self, key))
        if self._note is not None:
            self._note(self.name, key)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            record = dict.pop(self, key)
            self._detach(record)
            if self._note is not None:
                self._note(self.name, key)
            return record
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self) -> tuple[str, Any]:
        key = next(reversed(self))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self):
            self.pop(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, record in dict(*args, **kwargs).items():
            self[key] = record


class Store:
    def __init__(self, data_dir: str | None) -> None:
        self.lock = threading.RLock()
        self.persistent = bool(data_dir)
        if data_dir:
            self.root = Path(data_dir).resolve()
            self.root.mkdir(parents=True, exist_ok=True)
            self._tempdir = None
        else:
            self._tempdir = tempfile.TemporaryDirectory(prefix="replicate-sim-")
            self.root = Path(self._tempdir.name)
        for folder in ("files", "delivery", "trainings"):
            (self.root / folder).mkdir(exist_ok=True)
        note = self._note if self.persistent else None
        self.files: dict[str, FileRecord] = _Collection("files", note)
        self.versions: dict[str, VersionRecord] = _Collection("versions", note)
        self.models: dict[str, ModelRecord] = _Collection("models", note)
        self.jobs: dict[str, JobRecord] = _Collection("jobs", note)
        self._seq = 0
        self._saved_seq = 0
        # (collection, key) of records changed since the last flush; its own small lock, since
        # records are also changed outside `lock` (a record not yet added, a job's own thread).
        self._changed: set[tuple[str, str]] = set()
        self._changed_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # flushes are written in the order they were taken
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._saver: threading.Thread | None = None
        self._database: persistence.RecordDatabase | None = None
        if self.persistent:
            self._database = persistence.RecordDatabase(self.root)
            self._load()

    # --- paths ----------------------------------------------------------------------------------

    def file_path(self, file_id: str) -> Path:
        return self.root / "files" / file_id

    def delivery_dir(self, object_id: str) -> Path:
        return self.root / "delivery" / object_id

    def training_dir(self, training_id: str) -> Path:
        return self.root / "trainings" / training_id

    # --- bookkeeping ----------------------------------------------------------------------------

    def next_seq(self) -> int:
        with self.lock:
            self._seq += 1
            self._dirty.set()
            return self._seq

    def touch(self) -> None:
        """Wake the saver (record changes are noted by themselves; this is for the sequence)."""
        self._dirty.set()

    def _note(self, collection: str, key: str) -> None:
        with self._changed_lock:
            self._changed.add((collection, key))
        self._dirty.set()

    def _collection(self, name: str) -> _Collection:
        return getattr(self, name)

    def start_autosave(self, interval: float = 0.1) -> None:
        if not self.persistent or self._saver is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                if self._dirty.is_set():
                    try:
                        self.flush()
                    except Exception:  # keep saving; the error is for the operator
                        traceback.print_exc()

        self._saver = threading.Thread(target=loop, name="sim-store-saver", daemon=True)
        self._saver.start()

    def close(self) -> None:
        self._stop.set()
        if self._saver is not None:
            self._saver.join(timeout=5)
        if self._database is not None:
            self.flush()
            self._database.close()
            self._database = None
        if self._tempdir is not None:
            with contextlib.suppress(OSError):
                self._tempdir.cleanup()

    def flush(self) -> int:
        """Write the records changed since the last flush; returns how many were written.

        Only the changed records are serialised under `lock`, so neither the time the lock is
        held nor the size of the write depends on how many records there are.
        """
        if self._database is None:
            return 0
        with self._flush_lock:
            with self.lock:
                with self._changed_lock:
                    changed, self._changed = self._changed, set()
                    self._dirty.clear()
                seq = self._seq if self._seq != self._saved_seq else None
                upserts: list[persistence.Upsert] = []
                deletions: list[persistence.Deletion] = []
                for collection, key in sorted(changed):
                    record = self._collection(collection).get(key)
                    if record is None:
                        deletions.append((collection, key))
                    else:
                        body = json.dumps(dataclasses.asdict(record), separators=(",", ":"))
                        upserts.append((collection, key, record.seq, body))
            try:
                self._database.write(seq=seq, upserts=upserts, deletions=deletions)
            except BaseException:
                with self._changed_lock:  # not written: try these again with the next flush
                    self._changed |= changed
                    self._dirty.set()
                raise
            if seq is not None:
                self._saved_seq = seq
        return len(upserts) + len(deletions)

    def _load(self) -> None:
        assert self._database is not None
        if self._database.is_empty():
            legacy = persistence.read_legacy_state(self.root)
            if legacy is not None:
                self._import_legacy(legacy)
            return
        seq, records = self._database.read()
        self._seq = self._saved_seq = seq
        for collection in _RECORD_TYPES:
            target = self._collection(collection)
            for data in records.get(collection, []):
                record = _record_from(collection, data)
                target.load(_record_key(collection, record), record)

    def _import_legacy(self, state: dict[str, Any]) -> None:
        """Move a `state.json` (the format before the database) into the database, once."""
        with self.lock:
            self._seq = int(state.get("seq", 0))
            for collection in _RECORD_TYPES:
                target = self._collection(collection)
                for data in state.get(collection, []):
                    record = _record_from(collection, data)
                    target[_record_key(collection, record)] = record
        self.flush()
        persistence.retire_legacy_state(self.root)
        print(f"replicate-sim: imported {persistence.LEGACY_STATE_NAME}", file=sys.stderr)

    # --- queries --------------------------------------------------------------------------------

    def model_versions(self, model: ModelRecord) -> list[VersionRecord]:
        return [self.versions[v] for v in model.version_ids if v in self.versions]

    def latest_version(self, model: ModelRecord) -> VersionRecord | None:
        versions = self.model_versions(model)
        return versions[-1] if versions else None

    def jobs_of_kind(self, kind: str) -> list[JobRecord]:
        return [job for job in self.jobs.values() if job.kind == kind]

    def wipe_user_data(self, keep_models: set[str]) -> None:
        """Forget everything but the seeded catalogue (used by `/_sim/reset` with data=true)."""
        with self.lock:
            for job_id in list(self.jobs):
                shutil.rmtree(self.delivery_dir(job_id), ignore_errors=True)
                shutil.rmtree(self.training_dir(job_id), ignore_errors=True)
            for file_id in list(self.files):
                with contextlib.suppress(OSError):
                    self.file_path(file_id).unlink()
            self.jobs.clear()
            self.files.clear()
            for key in list(self.models):
                if key not in keep_models:
                    for version_id in self.models[key].version_ids:
                        self.versions.pop(version_id, None)
                    del self.models[key]
            self.touch()
