"""The data folder: every kind of change survives a reopen, a flush writes only what changed,
a `state.json` of an older version is imported, and a process killed mid-write leaves a
readable state that lacks at most the write in progress."""

import dataclasses
import json
import signal
import subprocess
import sys
import textwrap
import time

from replicate_sim.persistence import DATABASE_NAME
from replicate_sim.store import FileRecord, JobRecord, ModelRecord, Store, VersionRecord
from tests.simulator_fixtures import ROOT


def _job(store: Store, number: int, **changes) -> JobRecord:
    return JobRecord(
        kind="prediction",
        id=f"job{number:06d}",
        model="owner/model",
        version="hidden",
        version_ref="v1",
        input={"prompt": f"prompt {number}"},
        params={"prompt": f"prompt {number}", "num_outputs": 1},
        created_at=1_700_000_000.0 + number,
        seq=store.next_seq(),
        plan={"outcome": "succeeded", "seed": number},
        **changes,
    )


def _snapshot(store: Store) -> dict:
    return {
        name: {key: dataclasses.asdict(record) for key, record in getattr(store, name).items()}
        for name in ("files", "versions", "models", "jobs")
    } | {"seq": store._seq}


def test_every_kind_of_change_survives_a_reopen(tmp_path):
    store = Store(str(tmp_path))
    with store.lock:
        store.models["me/kept"] = ModelRecord(
            owner="me", name="kept", visibility="private", hardware="gpu-h100",
            created_at=1.0, seq=store.next_seq(),
        )  # fmt: skip
        store.versions["v1"] = VersionRecord(
            id="v1", model="me/kept", kind="lora", created_at=2.0, cog_version="0.14.1",
            seq=store.next_seq(), training_id="t1",
        )  # fmt: skip
        store.files["f1"] = FileRecord(
            id="f1", name="a.zip", content_type="application/zip", size=3, md5="m", sha256="s",
            metadata={"k": "v"}, created_at=3.0, seq=store.next_seq(),
        )  # fmt: skip
        store.files["f2"] = FileRecord(
            id="f2", name="b.zip", content_type="application/zip", size=4, md5="m", sha256="s",
            metadata={}, created_at=4.0, seq=store.next_seq(),
        )  # fmt: skip
        for number in range(3):
            store.jobs[f"job{number:06d}"] = _job(store, number)
    store.flush()

    with store.lock:
        job = store.jobs["job000001"]
        job.status = "succeeded"
        job.logs += "step 1\n"
        job.output_files = ["out-0.webp"]
        job.completed_at = 99.5
        store.models["me/kept"].version_ids = ["v1"]
        store.models["me/kept"].run_count += 1
        store.files.pop("f2")
        del store.jobs["job000002"]
        store.jobs["job000000"] = _job(store, 0, status="canceled")  # replaced by a new record
    expected = _snapshot(store)
    store.close()

    reopened = Store(str(tmp_path))
    try:
        assert _snapshot(reopened) == expected
        assert list(reopened.jobs) == ["job000001", "job000000"]  # oldest first, by seq
        assert reopened.jobs["job000001"].output_files == ["out-0.webp"]
        assert "f2" not in reopened.files and "job000002" not in reopened.jobs
    finally:
        reopened.close()


def test_a_flush_writes_only_the_records_that_changed(tmp_path):
    store = Store(str(tmp_path))
    with store.lock:
        for number in range(2000):
            store.jobs[f"job{number:06d}"] = _job(store, number)
    assert store.flush() == 2000
    assert store.flush() == 0

    with store.lock:
        store.jobs["job001234"].status = "processing"
        store.jobs["job001234"].logs += "a line\n"
        store.jobs.pop("job000007")
    assert store.flush() == 2
    # A record removed from the store no longer reports its changes.
    removed = _job(store, 5000)
    with store.lock:
        store.jobs[removed.id] = removed
        store.jobs.pop(removed.id)
    store.flush()
    removed.status = "failed"
    assert store.flush() == 0
    store.close()

    reopened = Store(str(tmp_path))
    try:
        assert len(reopened.jobs) == 1999
        assert reopened.jobs["job001234"].status == "processing"
        assert reopened.jobs["job001234"].logs == "a line\n"
    finally:
        reopened.close()


def test_a_state_json_of_the_older_format_is_imported_once(tmp_path):
    scratch = Store(None)
    jobs = [_job(scratch, number, status="succeeded") for number in range(3)]
    scratch.close()
    legacy = {
        "state_version": 1,
        "seq": 41,
        "files": [],
        "versions": [],
        "models": [],
        "jobs": [dataclasses.asdict(job) | {"a_field_of_another_version": 1} for job in jobs],
    }
    (tmp_path / "state.json").write_text(json.dumps(legacy))

    store = Store(str(tmp_path))
    store.close()
    assert not (tmp_path / "state.json").exists()
    assert (tmp_path / "state.json.imported").exists()

    reopened = Store(str(tmp_path))
    try:
        assert reopened.next_seq() == 42
        assert [job.id for job in reopened.jobs.values()] == [job.id for job in jobs]
        assert reopened.jobs["job000002"].status == "succeeded"
    finally:
        reopened.close()


def test_a_damaged_database_is_kept_aside_and_the_store_starts_empty(tmp_path, capfd):
    (tmp_path / DATABASE_NAME).write_bytes(b"this is not a database" * 100)
    store = Store(str(tmp_path))
    try:
        assert store.jobs == {}
        assert (tmp_path / f"{DATABASE_NAME}.damaged").exists()
        assert "could not read" in capfd.readouterr().err
        with store.lock:
            store.jobs["job000001"] = _job(store, 1)
        assert store.flush() == 1
    finally:
        store.close()


WRITER = textwrap.dedent(
    """
    import sys
    from replicate_sim.store import JobRecord, Store

    store = Store(sys.argv[1])
    first = len(store.jobs)
    padding = "x" * 20000  # large records, so that a kill often lands inside a write
    for number in range(first, first + 100000):
        with store.lock:
            store.jobs[f"job{number:06d}"] = JobRecord(
                kind="prediction", id=f"job{number:06d}", model="o/m", version="hidden",
                version_ref="v", input={"prompt": padding}, params={}, created_at=float(number),
                seq=store.next_seq(), logs=f"written {number}",
            )
            if number > 0:
                store.jobs[f"job{number - 1:06d}"].status = "succeeded"
        store.flush()
        print(number, flush=True)
    """
)


def test_a_kill_during_a_write_loses_at_most_the_write_in_progress(tmp_path):
    data_dir = tmp_path / "data"
    for round_number, writes in enumerate((40, 90, 15)):
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data_dir)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        confirmed = -1
        for count, line in enumerate(process.stdout, start=1):
            confirmed = int(line)
            if count >= writes:
                break
        time.sleep(0.003 * round_number)  # land at a different point of the next write
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        for line in process.stdout:  # what it confirmed before the kill, still in the pipe
            confirmed = int(line)
        process.stdout.close()
        process.stderr.close()

        store = Store(str(data_dir))
        try:
            numbers = sorted(int(key[3:]) for key in store.jobs)
            # Every write that was confirmed is there, and at most the one after it.
            assert numbers == list(range(len(numbers)))
            assert confirmed + 1 <= len(numbers) <= confirmed + 2
            for number in numbers:
                job = store.jobs[f"job{number:06d}"]
                assert job.logs == f"written {number}"
                assert job.input["prompt"] == "x" * 20000
                assert job.status == ("starting" if number == numbers[-1] else "succeeded")
            assert store.next_seq() > len(numbers)
        finally:
            store.close()
