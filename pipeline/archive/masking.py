"""Keep credentials out of every message: URL passwords, secret query parameters, known secret values."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<secret>[^@\s]*)@")
_SECRET_PARAM = re.compile(
    r"(?P<key>(?:password|passwd|secret|token|signature|sig|credential|access[_-]?key|"
    r"secret[_-]?access[_-]?key|session[_-]?token|x-amz-[a-z-]+)=)[^&\s\"']*", re.IGNORECASE)
_SECRET_OPTION = re.compile(r"secret|password|token|credential|key$|^key|private", re.IGNORECASE)
# Credentials fsspec's backends read from the environment (s3fs/botocore, gcsfs, adlfs).
SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AZURE_STORAGE_KEY",
              "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_SAS_TOKEN", "GOOGLE_OAUTH_ACCESS_TOKEN")
MASK = "***"


def mask_url(url: str) -> str:
    """The URL with its password and secret query parameters replaced by `***`."""
    return _SECRET_PARAM.sub(rf"\g<key>{MASK}", _USERINFO.sub(rf"\g<scheme>\g<user>:{MASK}@", url))


def secret_values(options: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """Secret strings that must never appear in a message: secret-looking options and credential variables."""
    env = os.environ if env is None else env
    found = [env[name] for name in SECRET_ENV if env.get(name)]
    found.extend(_secret_option_values(options or {}))
    return sorted({value for value in found if len(value) >= 4}, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with URL passwords, secret parameters and the given secret values masked."""
    text = mask_url(text)
    for value in secrets:
        text = text.replace(value, MASK)
    return text


def _secret_option_values(options: Mapping[str, Any]) -> Iterable[str]:
    for name, value in options.items():
        if isinstance(value, Mapping):
            yield from _secret_option_values(value)
        elif isinstance(value, str) and _SECRET_OPTION.search(str(name)):
            yield value
