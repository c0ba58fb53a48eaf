"""Crash safety: a writer killed at any point never leaves an indexed record that is not fully published."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline.archive import ArchiveStorage, ArchiveWriter, check_archive, encode_capture
from pipeline.errors import ArchiveUnavailable
from pipeline.models import IndexEntry, RecordLocation
from tests.archive.conftest import capture
from tests.s3server import SECRET_KEY, S3Server

REPO = Path(__file__).resolve().parents[2]

# A writer that publishes batch after batch and, after each publish, appends the batch's index entries
# to a journal (flushed and synced): the same order as the keep-raw stage (publish, then index rows).
WRITER = textwrap.dedent("""
    import json, os, sys, time
    from pipeline.archive import ArchiveStorage, ArchiveWriter, Capture, encode_capture
    from datetime import datetime, UTC
    root, journal, pause = sys.argv[1], sys.argv[2], sys.argv[3]
    storage = ArchiveStorage(root)
    if pause == "before-publish":
        publish = storage.publish
        def slow(path, name):
            open(journal + ".ready", "w").close(); time.sleep(60); return publish(path, name)
        storage.publish = slow
    writer = ArchiveWriter(storage, run_id=os.getpid())
    body = os.urandom(20000).hex().encode()
    with open(journal, "a") as out:
        for b in range(10**6):
            caps = [Capture(f"https://h.example/{os.getpid()}/{b}/{i}", f"https://h.example/{os.getpid()}/{b}/{i}",
                            200, {"content-type": "text/html"}, body[: 1000 + 97 * i] + b"%d" % b,
                            datetime.now(UTC)) for i in range(50)]
            encoded = [encode_capture(c) for c in caps]
            batch = writer.write(encoded)
            if pause == "after-publish":
                open(journal + ".ready", "w").close(); time.sleep(60)
            for loc, enc in zip(batch.locations, encoded):
                out.write(json.dumps([loc.file, loc.offset, loc.length, enc.sha256]) + "\\n")
            out.flush(); os.fsync(out.fileno())
""")


def start(root: Path, journal: Path, pause: str = "none") -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(journal), pause], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)


def journal_entries(journal: Path) -> list[IndexEntry]:
    if not journal.exists():
        return []
    rows = [json.loads(line) for line in journal.read_text().splitlines() if line.endswith("]")]
    return [IndexEntry(str(i), RecordLocation(f, o, n), sha) for i, (f, o, n, sha) in enumerate(rows)]


def wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.slow
def test_killed_at_random_moments_every_indexed_record_is_whole(tmp_path: Path) -> None:
    root, journal = tmp_path / "archive", tmp_path / "journal.jsonl"
    rng = random.Random(17)
    for _ in range(6):
        process = start(root, journal)
        time.sleep(rng.uniform(1.0, 3.0))
        kill(process)
    storage = ArchiveStorage(str(root))
    entries = journal_entries(journal)
    report = check_archive(storage, entries)
    assert entries and report.ok, report.lines()
    assert report.verified == len(entries)
    # whatever was published but not yet indexed is whole too, only unreferenced
    published = {f.url for f in storage.list_files()}
    assert set(report.unreferenced_files) <= published


def killed_at(pause: str, tmp_path: Path) -> tuple[ArchiveStorage, list[IndexEntry]]:
    """Kill a writer paused at `pause`; the archive and the index entries it journaled."""
    root, journal = tmp_path / "archive", tmp_path / "journal.jsonl"
    process = start(root, journal, pause)
    wait_for(Path(f"{journal}.ready"))
    kill(process)
    return ArchiveStorage(str(root)), journal_entries(journal)


def test_killed_before_publishing_nothing_is_visible_and_the_staged_file_is_reported(tmp_path: Path) -> None:
    storage, entries = killed_at("before-publish", tmp_path)
    assert storage.list_files() == []
    report = check_archive(storage, entries)
    assert report.ok and len(report.staged_files) == 1 and report.staged_files[0].endswith(".warc.gz.part")


def test_killed_after_publishing_before_indexing_the_file_is_unreferenced_and_harmless(tmp_path: Path) -> None:
    storage, entries = killed_at("after-publish", tmp_path)
    report = check_archive(storage, entries)
    assert report.ok and report.indexed == 0
    assert len(report.unreferenced_files) == 1 and len(report.unreferenced_records) == 0  # whole file unreferenced


@pytest.mark.slow  # the S3 client retries a refused connection for seconds
def test_an_object_store_outage_fails_the_batch_clearly_without_secrets(tmp_path: Path) -> None:
    server = S3Server()
    server.start()
    saved = {key: os.environ.get(key) for key in server.env}
    os.environ.update(server.env)
    try:
        storage = ArchiveStorage(f"s3://{server.new_bucket()}/raw", storage_options={
            "secret": SECRET_KEY, "key": "AKIATESTNEWSPIPELINE", "endpoint_url": server.endpoint})
        writer = ArchiveWriter(storage, run_id=3)
        writer.write([encode_capture(capture("https://h.example/ok"))])
        server.stop()
        with pytest.raises(ArchiveUnavailable) as raised:
            writer.write([encode_capture(capture("https://h.example/lost"))])
    finally:
        server.stop()
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    message = str(raised.value)
    assert message.startswith("publish s3://") and "\n" not in message
    assert SECRET_KEY not in message and "AKIATESTNEWSPIPELINE" not in message
    assert list(Path(os.environ.get("TMPDIR", "/tmp")).glob("news-pipeline-run3-*.part")) == []
