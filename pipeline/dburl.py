"""The database URL: what is accepted (PostgreSQL only, one line of error otherwise) and its masked spelling."""

from __future__ import annotations

import re

from pipeline.errors import ConfigError

POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+psycopg2"})
EXPECTED = "postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
MASK = "***"

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
# key=value pairs whose value is a secret, in a query string or a libpq keyword/value string; a quoted
# value (libpq allows spaces inside quotes) is masked whole.
_SECRET_PARAM = re.compile(
    r"(?P<key>(?:^|(?<=[?&;\s]))[^=&?;\s]*(?:password|passwd|pwd|secret|token)[^=&;\s]*\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'?|[^&;\s]*)",
    re.IGNORECASE,
)


def mask_database_url(url: str) -> str:
    """`url` with every password shown as `***`, whatever its shape: `scheme://user:pw@host/db`, no scheme
    (`user:pw@host/db`), a password holding spaces, `@` or `/`, `?password=` and other secret parameters,
    libpq `key=value` strings."""
    text = url.strip()
    match = _SCHEME.match(text)
    prefix, rest = (match.group(), text[match.end():]) if match else ("", text)
    at = rest.rfind("@")  # a password may hold "@", "/" or spaces: the userinfo runs to the last "@"
    if at >= 0:
        userinfo, rest = rest[:at], rest[at:]
        user, colon, _ = userinfo.partition(":")
        if colon:
            userinfo = f"{user}:{MASK}"
        elif " " in userinfo or "=" in userinfo:  # not a user name: a keyword/value string holding "@"
            userinfo = MASK
        rest = userinfo + rest
    return prefix + _SECRET_PARAM.sub(lambda m: m.group("key") + MASK, rest)


def check_database_url(url: str, variable: str = "DATABASE_URL") -> str:
    """`url` stripped when it is a PostgreSQL URL; else a one-line `ConfigError` that never shows the
    password (a URL without a scheme, another dialect, a password with an unescaped `@`)."""
    text = url.strip()
    match = _SCHEME.match(text)
    if match is None:
        raise ConfigError(f"{variable} is not a URL ({mask_database_url(text)}): expected {EXPECTED}")
    scheme = match.group("scheme").lower()
    if scheme not in POSTGRES_SCHEMES:
        raise ConfigError(f"{variable} is a {scheme}:// URL ({mask_database_url(text)}): only PostgreSQL is "
                          f"supported, expected {EXPECTED}")
    userinfo = text[match.end():text.rfind("@")] if "@" in text else ""
    if "@" in userinfo:  # the driver would split at the first "@" and show the rest of the password as host
        raise ConfigError(f"{variable} has an '@' in its user name or password ({mask_database_url(text)}): "
                          "percent-encode it as %40")
    return text
