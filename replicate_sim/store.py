"""In-memory state with optional persistence to a data folder.

All records live in dictionaries guarded by one re-entrant lock (`Store.lock`); every change marks
the store dirty and a background thread writes `state.json` atomically, so a restart with the same
`--data-dir` keeps uploaded files, trained models and past predictions. Binary content (uploads,
output images, training photos, weights) lives in files next to it, never in the JSON.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
STATE_VERSION = 1


@dataclass
class FileRecord:
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
class VersionRecord:
    id: str
    model: str  # "owner/name"
    kind: str  # schemas.*_KIND
    created_at: float
    cog_version: str
    seq: int
    trigger_word: str = "TOK"
    training_id: str | None = None  # set on versions the simulator trained itself


@dataclass
class ModelRecord:
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
class JobRecord:
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


_RECORD_TYPES = {
    "files": FileRecord,
    "versions": VersionRecord,
    "models": ModelRecord,
    "jobs": JobRecord,
}


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
        self.files: dict[str, FileRecord] = {}
        self.versions: dict[str, VersionRecord] = {}
        self.models: dict[str, ModelRecord] = {}
        self.jobs: dict[str, JobRecord] = {}
        self._seq = 0
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._saver: threading.Thread | None = None
        if self.persistent:
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
            return self._seq

    def touch(self) -> None:
        """Note a change; the saver thread writes it out shortly."""
        self._dirty.set()

    def start_autosave(self, interval: float = 0.5) -> None:
        if not self.persistent or self._saver is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                if self._dirty.is_set():
                    self.save()

        self._saver = threading.Thread(target=loop, name="sim-store-saver", daemon=True)
        self._saver.start()

    def close(self) -> None:
        self._stop.set()
        if self._saver is not None:
            self._saver.join(timeout=5)
        if self.persistent:
            self.save()
        if self._tempdir is not None:
            with contextlib.suppress(OSError):
                self._tempdir.cleanup()

    def save(self) -> None:
        if not self.persistent:
            return
        with self.lock:
            self._dirty.clear()
            state = {
                "state_version": STATE_VERSION,
                "seq": self._seq,
                "files": [dataclasses.asdict(r) for r in self.files.values()],
                "versions": [dataclasses.asdict(r) for r in self.versions.values()],
                "models": [dataclasses.asdict(r) for r in self.models.values()],
                "jobs": [dataclasses.asdict(r) for r in self.jobs.values()],
            }
            data = json.dumps(state, separators=(",", ":"))
        target = self.root / "state.json"
        temporary = target.with_suffix(".json.tmp")
        temporary.write_text(data, encoding="utf-8")
        temporary.replace(target)

    def _load(self) -> None:
        target = self.root / "state.json"
        if not target.exists():
            return
        try:
            state = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            # A damaged file should not stop the demo; keep it aside and start empty.
            backup = target.with_suffix(".json.damaged")
            shutil.copyfile(target, backup)
            print(
                f"replicate-sim: could not read {target} ({error}); saved as {backup}",
                file=sys.stderr,
            )
            return
        self._seq = int(state.get("seq", 0))
        known = {
            name: {f.name for f in dataclasses.fields(cls)} for name, cls in _RECORD_TYPES.items()
        }
        for record in state.get("files", []):
            item = FileRecord(**{k: v for k, v in record.items() if k in known["files"]})
            self.files[item.id] = item
        for record in state.get("versions", []):
            item = VersionRecord(**{k: v for k, v in record.items() if k in known["versions"]})
            self.versions[item.id] = item
        for record in state.get("models", []):
            item = ModelRecord(**{k: v for k, v in record.items() if k in known["models"]})
            self.models[item.key] = item
        for record in state.get("jobs", []):
            item = JobRecord(**{k: v for k, v in record.items() if k in known["jobs"]})
            self.jobs[item.id] = item

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
