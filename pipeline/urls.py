"""URL canonicalisation: one spelling per article, so two links to it compare equal."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, quote, unquote_plus, urljoin, urlsplit, urlunsplit

import idna

# Query parameters that only say where a click came from: dropped. Matched case-insensitively.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "rb_clickid",
        "s_cid",
        "ncid",
        "ocid",
        "cmpid",
        "cmp",
        "icid",
        "smid",
        "smtyp",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "spm",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "__twitter_impression",
    }
)
# Prefixes of whole families of tracking parameters (Google Analytics, Matomo, Piwik, HubSpot).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "mtm_", "pk_", "hsa_", "itm_")
DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443}

_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
# Characters left as they are in a path (RFC 3986 pchar + "/"); everything else is %-encoded.
_PATH_SAFE = "/:@!$&'()*+,;="
_QUERY_SAFE = "/:@!$'()*+,;?"
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def is_tracking_param(name: str) -> bool:
    """True for query parameters that only carry campaign or click tracking."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonicalise_url(url: str, base: str | None = None) -> str:
    """Return the canonical spelling of `url` (resolved against `base` when relative).

    http(s) only: lowercase scheme and host, IDNA host, no default port, no userinfo, no
    fragment, dot-segments removed, percent-encoding normalised, tracking parameters
    dropped and the remaining query parameters sorted. Other schemes are returned stripped.
    An http(s) URL with an invalid port raises ValueError.
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return url
    try:
        port = parts.port
    except ValueError:  # ":99999", ":http": not an address to fetch, and never the default port instead
        raise ValueError(f"invalid port in {url[:200]!r}") from None
    netloc = _netloc(scheme, parts.hostname or "", port)
    path = _normalise_path(parts.path)
    query = _normalise_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    """The politeness key of a URL: canonical host, plus the port when it is not the default."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    return _netloc(scheme, parts.hostname or "", _port(parts))


def site_root(url: str) -> str:
    """scheme://host[:port] of a URL (where its robots.txt lives)."""
    parts = urlsplit(canonicalise_url(url))
    return f"{parts.scheme}://{parts.netloc}"


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def _idna_host(host: str) -> str:
    host = host.strip(".").lower()
    if not host or host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        return host.encode("idna").decode("ascii")


def _netloc(scheme: str, host: str, port: int | None) -> str:
    host = _idna_host(host)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        return f"{host}:{port}"
    return host


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4."""
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")):
        output.append("")
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _requote(text: str, safe: str) -> str:
    """Decode %-escapes of unreserved characters, uppercase the others, encode the unsafe."""
    pieces: list[str] = []
    last = 0
    for match in _PERCENT.finditer(text):
        pieces.append(quote(text[last : match.start()], safe=safe + _UNRESERVED))
        char = chr(int(match.group()[1:], 16))
        pieces.append(char if char in _UNRESERVED else match.group().upper())
        last = match.end()
    pieces.append(quote(text[last:], safe=safe + _UNRESERVED))
    return "".join(pieces)


def _normalise_path(path: str) -> str:
    return _requote(_remove_dot_segments(path or "/"), _PATH_SAFE)


def _normalise_query(query: str) -> str:
    """Drop tracking parameters, normalise escapes, sort; `a` and `a=` stay distinct."""
    kept: list[tuple[str, str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, sep, value = piece.partition("=")
        if is_tracking_param(unquote_plus(name)):
            continue
        kept.append((_requote(name, _QUERY_SAFE), sep, _requote(value, _QUERY_SAFE + "=")))
    kept.sort()
    return "&".join(name + sep + value for name, sep, value in kept)
