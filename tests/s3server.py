"""An S3-compatible server on loopback for the suite: moto's standalone server in a child process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import fsspec

# Credentials the tests use: recognisable, so a test can assert they never show up in a message.
ACCESS_KEY = "AKIATESTNEWSPIPELINE"
SECRET_KEY = "s3cret-Never-Printed-9f3b2c"
REGION = "us-east-1"


class S3Server:
    """`python -m moto.server` on a free port of 127.0.0.1, with the environment that points s3fs at it."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.endpoint = ""
        self.log: list[str] = []

    def start(self, timeout: float = 60.0) -> None:
        _forget_cached_clients()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        found = threading.Event()

        def pump() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                self.log.append(line)
                match = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
                if match and not found.is_set():
                    self.endpoint = match.group(1)
                    found.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("moto server did not start:\n" + "".join(self.log[-20:]))

    def stop(self) -> None:
        _forget_cached_clients()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    @property
    def env(self) -> dict[str, str]:
        """What an operator sets to use an S3-compatible endpoint: the standard AWS variables."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": self.endpoint}

    def new_bucket(self) -> str:
        """A fresh bucket; returns its name."""
        name = f"np-{uuid.uuid4().hex[:12]}"
        fs = fsspec.filesystem("s3", key=ACCESS_KEY, secret=SECRET_KEY, endpoint_url=self.endpoint)
        fs.mkdir(name)  # us-east-1: S3 refuses a LocationConstraint naming it
        return name


def _forget_cached_clients() -> None:
    """fsspec caches file systems by their arguments, not the environment: drop clients of a previous server."""
    fsspec.get_filesystem_class("s3").clear_instance_cache()


@contextmanager
def running_s3() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    saved = {key: os.environ.get(key) for key in server.env}
    os.environ.update(server.env)
    try:
        yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()
