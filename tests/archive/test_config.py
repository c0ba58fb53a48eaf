"""Archive settings and credentials: one URL setting, a data-dir default, an Airflow connection, no secret shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.archive import ArchiveConfig, ArchiveStorage, ArchiveWriter, encode_capture
from pipeline.archive.connections import storage_options_of
from pipeline.archive.masking import mask_url, scrub, secret_values
from pipeline.errors import ArchiveUnavailable, ConfigError
from pipeline.settings import Settings
from tests.archive.conftest import capture
from tests.s3server import ACCESS_KEY, SECRET_KEY, S3Server

REPO = Path(__file__).resolve().parents[2]


def test_default_location_is_a_directory_in_the_data_dir(tmp_path: Path) -> None:
    config = ArchiveConfig.from_settings(Settings.from_env({}, data_dir=tmp_path))
    assert config.url == str(tmp_path / "archive") and config.compression_level == 4
    storage = config.open()
    batch = ArchiveWriter(storage, run_id=1).write([encode_capture(capture("https://h.example/d"))])
    assert batch.file.startswith(f"file://{tmp_path}/archive/2026/11/20/news-pipeline-run1-")


def test_settings_from_the_environment(tmp_path: Path) -> None:
    env = {"NEWS_PIPELINE_ARCHIVE_URL": "s3://bucket/raw", "NEWS_PIPELINE_ARCHIVE_COMPRESSION_LEVEL": "6",
           "NEWS_PIPELINE_ARCHIVE_STORAGE_OPTIONS": '{"endpoint_url": "http://127.0.0.1:9", "secret": "xyz-123"}',
           "NEWS_PIPELINE_ARCHIVE_CONN_ID": "news_archive"}
    config = ArchiveConfig.from_settings(Settings.from_env(env, data_dir=tmp_path))
    assert (config.url, config.compression_level, config.conn_id) == ("s3://bucket/raw", 6, "news_archive")
    assert config.storage_options["endpoint_url"] == "http://127.0.0.1:9"
    assert "xyz-123" not in repr(config)


@pytest.mark.parametrize(("env", "message"), [
    ({"NEWS_PIPELINE_ARCHIVE_COMPRESSION_LEVEL": "max"}, "valid integer"),
    ({"NEWS_PIPELINE_ARCHIVE_COMPRESSION_LEVEL": "12"}, "less than or equal to 9"),
    ({"NEWS_PIPELINE_ARCHIVE_STORAGE_OPTIONS": '{"secret": "hunter2'}, "not a JSON object"),
    ({"NEWS_PIPELINE_ARCHIVE_STORAGE_OPTIONS": '["hunter2"]'}, "expected a JSON object"),
])
def test_bad_settings_are_one_line_config_errors(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        ArchiveConfig.from_settings(Settings.from_env(env, data_dir=tmp_path))
    assert "hunter2" not in str(raised.value) and len(str(raised.value).splitlines()) == 1
    assert next(iter(env)) in str(raised.value)


def test_an_unknown_location_scheme_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as raised:
        ArchiveStorage("nosuchfs://user:hunter2@host/bucket")
    assert "hunter2" not in str(raised.value) and "nosuchfs://user:***@host/bucket" in str(raised.value)


@pytest.mark.parametrize("url", [
    "s3://AKIA:topsecret@bucket/prefix", "https://user:topsecret@host/x.warc.gz",
    "https://host/x.warc.gz?X-Amz-Signature=topsecret&X-Amz-Credential=topsecret", "gs://b/p?token=topsecret",
])
def test_masking_covers_userinfo_and_signed_urls(url: str) -> None:
    assert "topsecret" not in mask_url(url)


def test_secret_values_come_from_options_and_the_environment() -> None:
    options = {"key": "AKIAKEY", "secret": "s3cr3t!", "endpoint_url": "http://x",
               "client_kwargs": {"aws_session_token": "tok-123"}}
    found = secret_values(options, env={"AWS_SECRET_ACCESS_KEY": "envsecret"})
    assert set(found) == {"AKIAKEY", "s3cr3t!", "tok-123", "envsecret"}
    assert scrub("failed with s3cr3t! and envsecret", found) == "failed with *** and ***"


def test_connection_fields_map_to_s3fs_and_gcsfs_options() -> None:
    extra = {"endpoint_url": "http://minio:9000", "region_name": "eu-west-1", "aws_session_token": "t"}
    assert storage_options_of("s3", "AK", "SK", extra) == {
        "key": "AK", "secret": "SK", "token": "t", "endpoint_url": "http://minio:9000",
        "client_kwargs": {"region_name": "eu-west-1"}}
    assert storage_options_of("gs", None, None, {"keyfile_dict": '{"type": "service_account"}', "project": "p"}) \
        == {"token": {"type": "service_account"}, "project": "p"}
    with pytest.raises(ConfigError):
        storage_options_of("ftp", "u", "p", {})


CONNECTION_RUN = """
import sys
from pipeline.archive import ArchiveConfig, ArchiveWriter, encode_capture
from pipeline.settings import Settings
from tests.archive.conftest import capture
config = ArchiveConfig.from_settings(Settings.from_env({"NEWS_PIPELINE_ARCHIVE_URL": sys.argv[2],
                                                        "NEWS_PIPELINE_ARCHIVE_CONN_ID": "news_archive"},
                                                       data_dir=sys.argv[1]))
storage = config.open()
print(ArchiveWriter(storage, run_id=2).write([encode_capture(capture("https://h.example/c"))]).file)
print(storage.scrub(sys.argv[3]))
"""


@pytest.mark.airflow
def test_an_airflow_connection_supplies_endpoint_and_credentials(tmp_path: Path, s3_server: S3Server) -> None:
    """Airflow resolves the connection (here from AIRFLOW_CONN_*, as a secrets backend would); its own process
    and AIRFLOW_HOME, and no AWS_* variables: without the connection s3fs would try the real AWS and fail."""
    bucket = s3_server.new_bucket()
    endpoint = s3_server.endpoint.replace(":", "%3A").replace("/", "%2F")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AIRFLOW_HOME": str(tmp_path / "airflow"), "PYTHONPATH": str(REPO),
                "AIRFLOW_CONN_NEWS_ARCHIVE": f"aws://{ACCESS_KEY}:{SECRET_KEY}@/?endpoint_url={endpoint}"})
    done = subprocess.run([sys.executable, "-c", CONNECTION_RUN, str(tmp_path), f"s3://{bucket}/via-conn",
                           f"x {SECRET_KEY} y"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    written, scrubbed = done.stdout.splitlines()[-2:]
    assert written.startswith(f"s3://{bucket}/via-conn/2026/11/20/news-pipeline-run2-")
    assert scrubbed == "x *** y" and SECRET_KEY not in done.stderr


@pytest.mark.slow  # the S3 client retries a refused connection for seconds
def test_an_unreachable_endpoint_is_archive_unavailable_and_masked(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    # nothing listens on the discard port (given as an option: fsspec caches file systems by their options)
    storage = ArchiveStorage("s3://np-nowhere/raw", storage_options={"endpoint_url": "http://127.0.0.1:9"})
    with pytest.raises(ArchiveUnavailable) as raised:
        storage.list_files()
    assert SECRET_KEY not in str(raised.value) and ACCESS_KEY not in str(raised.value)
