"""Where WARC files live: a local directory or an object-storage prefix, through fsspec; publish and ranged reads."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from pipeline.archive.masking import scrub, secret_values
from pipeline.errors import ArchiveError, ArchiveUnavailable, ConfigError, Reason

WARC_SUFFIXES = (".warc.gz", ".warc")
STAGING_DIR = ".incoming"  # local archives: batches are written here, then renamed into place
READ_BLOCK = 8 * 1024 * 1024  # read-ahead of sequential reads from object storage


@dataclass(frozen=True)
class StoredFile:
    """A published WARC file and its size in bytes."""

    url: str
    size: int


class ArchiveStorage:
    """One archive location (`/dir`, `file:///dir`, `s3://bucket/prefix`, `gs://bucket/prefix`...).

    Files are published whole and never rewritten: a local file is renamed into place from a staging
    directory on the same file system, an object is uploaded in one request (or one multipart upload),
    so no reader ever sees a partial file. Credentials come from `storage_options`, the environment
    (e.g. `AWS_*`, `GOOGLE_APPLICATION_CREDENTIALS`) or a given fsspec `filesystem` (an Airflow
    connection's); no message ever shows them.
    """

    def __init__(self, url: str, *, storage_options: Mapping[str, Any] | None = None,
                 filesystem: fsspec.AbstractFileSystem | None = None, temp_dir: Path | None = None) -> None:
        self._options = dict(storage_options or {})
        self._secrets = secret_values(self._options)
        self.fs, self.root = _resolve(url, self._options, filesystem, self._secrets)
        self.root = self.root.rstrip("/")
        self.is_local = isinstance(self.fs, LocalFileSystem)
        self.url = self.fs.unstrip_protocol(self.root)
        self._temp_dir = temp_dir

    @property
    def masked_url(self) -> str:
        """The location for messages and logs (credentials masked)."""
        return self.scrub(self.url)

    def scrub(self, text: str) -> str:
        """`text` without any credential of this storage."""
        return scrub(text, self._secrets)

    def file_url(self, name: str) -> str:
        """The full URL of a file `name` (a path relative to the root)."""
        return self.fs.unstrip_protocol(f"{self.root}/{name.lstrip('/')}")

    def relative_name(self, url: str) -> str | None:
        """The path of a file URL relative to the root, or None when it lies elsewhere."""
        prefix = self.url.rstrip("/") + "/"
        return url[len(prefix):] if url.startswith(prefix) else None

    # -- writing -------------------------------------------------------------------------------------

    def staging_path(self, basename: str) -> Path:
        """A fresh local path to write a batch file before publishing it."""
        if self.is_local:
            staging = Path(self.root) / STAGING_DIR
            with self._errors("create staging directory", self.url):
                staging.mkdir(parents=True, exist_ok=True)
            return staging / f"{basename}.part"
        handle, path = tempfile.mkstemp(prefix=f"{basename}.", suffix=".part", dir=self._temp_dir)
        os.close(handle)
        return Path(path)

    def publish(self, local_path: Path, name: str) -> str:
        """Move a finished local file to `name` under the root, whole and once; return its URL."""
        target = f"{self.root}/{name}"
        url = self.fs.unstrip_protocol(target)
        try:
            with self._errors("publish", url):
                if self.is_local:
                    _publish_local(local_path, Path(target))
                else:
                    self.fs.put_file(str(local_path), target)
                    self._check_size(target, local_path.stat().st_size, url)
        finally:
            local_path.unlink(missing_ok=True)
        return url

    def _check_size(self, target: str, expected: int, url: str) -> None:
        size = self.fs.info(target).get("size")
        if size != expected:
            raise ArchiveUnavailable(f"publish {self.scrub(url)}: stored {size} bytes, wrote {expected}")

    # -- reading -------------------------------------------------------------------------------------

    def read_range(self, url: str, offset: int, length: int) -> bytes:
        """`length` bytes of a file from `offset` (a ranged GET on object storage)."""
        fs, path = self._locate(url)
        with self._errors("read", url):
            data = fs.cat_file(path, start=offset, end=offset + length)
        if len(data) != length:
            raise ArchiveError(f"{self.scrub(url)}: record at {offset} is truncated ({len(data)} of {length} bytes)",
                               reason=Reason.ARCHIVE_TRUNCATED)
        return data

    @contextmanager
    def open(self, url: str) -> Iterator[IO[bytes]]:
        """A file opened for sequential reading (read-ahead on object storage)."""
        fs, path = self._locate(url)
        with self._errors("open", url):
            handle = fs.open(path, "rb") if isinstance(fs, LocalFileSystem) \
                else fs.open(path, "rb", block_size=READ_BLOCK, cache_type="readahead")
        with handle:
            yield handle

    def size(self, url: str) -> int | None:
        """Size of a file in bytes, None when it does not exist."""
        fs, path = self._locate(url)
        try:
            with self._errors("stat", url):
                return int(fs.info(path)["size"])
        except ArchiveError as exc:
            if exc.reason == Reason.ARCHIVE_MISSING:
                return None
            raise

    def list_files(self, prefix: str = "") -> list[StoredFile]:
        """Published WARC files under the root (or under `prefix`, e.g. `2026/11/20`), sorted by URL."""
        base = f"{self.root}/{prefix.strip('/')}".rstrip("/")
        with self._errors("list", self.fs.unstrip_protocol(base)):
            found = self.fs.find(base, detail=True) if self.fs.exists(base) else {}
        files = [StoredFile(self.fs.unstrip_protocol(path), int(info.get("size") or 0))
                 for path, info in found.items()
                 if path.endswith(WARC_SUFFIXES) and f"/{STAGING_DIR}/" not in path]
        return sorted(files, key=lambda f: f.url)

    def staged_files(self) -> list[StoredFile]:
        """Batch files left in the staging directory by a process that died before publishing them."""
        if not self.is_local:
            return []
        staging = Path(self.root) / STAGING_DIR
        return sorted((StoredFile(self.fs.unstrip_protocol(str(p)), p.stat().st_size)
                       for p in staging.glob("*.part")), key=lambda f: f.url) if staging.is_dir() else []

    def _locate(self, url: str) -> tuple[fsspec.AbstractFileSystem, str]:
        """The file system and path of a file URL: this storage's own, or one resolved for another location."""
        protocol = url.split("://", 1)[0] if "://" in url else "file"
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        if protocol in protocols:
            return self.fs, self.fs._strip_protocol(url)
        return _resolve(url, {}, None, self._secrets)

    @contextmanager
    def _errors(self, action: str, url: str) -> Iterator[None]:
        with storage_errors(action, url, self._secrets):
            yield


@contextmanager
def storage_errors(action: str, url: str, secrets: list[str] | tuple[str, ...] = ()) -> Iterator[None]:
    """Translate storage errors: missing file -> ArchiveError, anything else -> ArchiveUnavailable (masked)."""
    try:
        yield
    except ArchiveError:
        raise
    except FileNotFoundError:
        raise ArchiveError(f"{action} {scrub(url, secrets)}: no such file", reason=Reason.ARCHIVE_MISSING) from None
    except FileExistsError:
        raise ArchiveError(f"{action} {scrub(url, secrets)}: file exists, archive files are never rewritten",
                           reason=Reason.ARCHIVE_EXISTS) from None
    except Exception as exc:  # noqa: BLE001 - botocore, aiohttp, gcsfs... each have their own hierarchy
        detail = scrub(f"{type(exc).__name__}: {_first_line(exc)}", secrets)
        raise ArchiveUnavailable(f"{action} {scrub(url, secrets)}: {detail}") from None


def open_location(url: str, storage_options: Mapping[str, Any] | None = None
                  ) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec file system and path of any location URL or local path (ConfigError when unusable)."""
    options = dict(storage_options or {})
    return _resolve(url, options, None, secret_values(options))


def _resolve(url: str, options: Mapping[str, Any], filesystem: fsspec.AbstractFileSystem | None,
             secrets: list[str]) -> tuple[fsspec.AbstractFileSystem, str]:
    if filesystem is not None:
        return filesystem, filesystem._strip_protocol(url)
    if "://" not in url:
        url = str(Path(url).expanduser().absolute())
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:
        raise ConfigError(f"archive location {scrub(url, secrets)}: {exc.name or exc} is not installed "
                          f"(install news-pipeline[s3] or [gcs])") from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"archive location {scrub(url, secrets)}: {scrub(_first_line(exc), secrets)}") from None
    return fs, path


def _publish_local(source: Path, target: Path) -> None:
    """Durably move `source` to `target`, refusing to replace an existing file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as handle:
        os.fsync(handle.fileno())  # the bytes are on disk before any index row can point at them
    try:
        os.link(source, target)  # atomic, and fails instead of replacing an existing file
    except FileExistsError:
        raise
    except OSError:  # file systems without hard links
        if target.exists():
            raise FileExistsError(str(target)) from None
        os.rename(source, target)
    _fsync_dir(target.parent)


def _fsync_dir(path: Path) -> None:
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
