"""The only package that speaks HTTP: polite, bounded, SSRF-guarded fetching on one session per run."""

from pipeline.fetch.client import CHUNK_BYTES, Fetcher, FetchStats, classify_exception, parse_retry_after
from pipeline.fetch.robots import RobotsRules, parse_robots
from pipeline.fetch.scheduler import fetch_many
from pipeline.fetch.ssrf import is_public_address

__all__ = [
    "CHUNK_BYTES",
    "FetchStats",
    "Fetcher",
    "RobotsRules",
    "classify_exception",
    "fetch_many",
    "is_public_address",
    "parse_retry_after",
    "parse_robots",
]
