"""Credentials of an Airflow connection as fsspec storage options (no provider package needed)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipeline.errors import ConfigError

S3_SCHEMES = frozenset({"s3", "s3a"})
GCS_SCHEMES = frozenset({"gs", "gcs"})


def airflow_filesystem(scheme: str, conn_id: str) -> Any | None:
    """The file system an installed Airflow provider registers for `scheme` with the connection, if any."""
    try:
        from airflow.sdk.io.fs import get_fs, has_fs
    except ImportError:
        return None
    return get_fs(scheme, conn_id) if has_fs(scheme) else None


def connection_storage_options(scheme: str, conn_id: str) -> dict[str, Any]:
    """s3fs / gcsfs options from an Airflow connection (`aws` or `google_cloud_platform`)."""
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        raise ConfigError(f"archive connection {conn_id!r} needs Airflow (pip install news-pipeline[airflow])") \
            from None
    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - AirflowNotFoundException and secrets-backend errors
        raise ConfigError(f"archive connection {conn_id!r}: {type(exc).__name__}") from None
    return storage_options_of(scheme, connection.login, connection.password, connection.extra_dejson or {})


def storage_options_of(scheme: str, login: str | None, password: str | None, extra: Mapping[str, Any]
                       ) -> dict[str, Any]:
    """Map a connection's login, password and extras to the fsspec backend of `scheme`."""
    if scheme in S3_SCHEMES:
        options: dict[str, Any] = {}
        if login:
            options["key"] = login
        if password:
            options["secret"] = password
        if extra.get("aws_session_token"):
            options["token"] = extra["aws_session_token"]
        if extra.get("endpoint_url"):
            options["endpoint_url"] = extra["endpoint_url"]
        region = extra.get("region_name") or extra.get("region")
        if region:
            options["client_kwargs"] = {"region_name": region}
        return options
    if scheme in GCS_SCHEMES:
        token = extra.get("keyfile_dict") or extra.get("key_path") or password
        if isinstance(token, str) and token.lstrip().startswith("{"):
            token = json.loads(token)
        options = {"token": token} if token else {}
        if extra.get("project"):
            options["project"] = extra["project"]
        return options
    raise ConfigError(f"an archive connection works for s3:// and gs:// locations, not {scheme}://")
