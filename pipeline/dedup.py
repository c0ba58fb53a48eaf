"""Duplicate detection values: content hash, MinHash signatures and LSH band keys (datasketch)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH

NUM_PERM = 64  # with THRESHOLD 0.5 datasketch picks 14 bands of 4 rows
SHINGLE_WORDS = 3
THRESHOLD = 0.5  # estimated Jaccard similarity of word 3-shingles at which two articles are one story
MIN_WORDS = 20  # shorter bodies are not clustered: too few shingles for a meaningful estimate
SCHEME = "affine32"

_WORD = re.compile(r"\w+", re.UNICODE)


def content_hash(body: str) -> str:
    """SHA-256 of the normalised body: equal hashes are exact duplicates (same as `ExtractedArticle`)."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[bytes]:
    """Lower-cased word k-grams of `text` as UTF-8 bytes."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(words) < k:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i:i + k]).encode("utf-8") for i in range(len(words) - k + 1)}


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The permutation parameters, computed once (datasketch derives them from seed 1)."""
    return MinHash(num_perm=NUM_PERM, scheme=SCHEME).permutations


@lru_cache(maxsize=1)
def _bands() -> tuple[tuple[int, int], ...]:
    """Hash ranges of the LSH bands datasketch chooses for THRESHOLD and NUM_PERM."""
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    return tuple(lsh.hashranges)


def signature(text: str) -> MinHash | None:
    """MinHash of the text's shingles, or None when the text is too short to cluster."""
    if len(_WORD.findall(text)) < MIN_WORDS:
        return None
    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME, permutations=_permutations(), hashfunc=zlib.crc32)
    minhash.update_batch(shingles(text))
    return minhash


def band_keys(minhash: MinHash) -> list[tuple[int, int]]:
    """(band number, 63-bit key) per LSH band: two articles sharing any pair are candidates."""
    keys = []
    for band, (start, end) in enumerate(_bands()):
        digest = hashlib.blake2b(minhash.hashvalues[start:end].tobytes(), digest_size=8).digest()
        keys.append((band, int.from_bytes(digest, "big") >> 1))
    return keys


def to_bytes(minhash: MinHash) -> bytes:
    """Serialise a signature for the database."""
    return minhash.hashvalues.tobytes()


def from_bytes(data: bytes) -> MinHash:
    """Rebuild a signature stored by `to_bytes`."""
    values = np.frombuffer(bytes(data), dtype=_permutations()[0].dtype)
    return MinHash(hashvalues=values, scheme=SCHEME, permutations=_permutations(), hashfunc=zlib.crc32)


def similarity(a: MinHash, b: MinHash) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(a.jaccard(b))


@dataclass(frozen=True)
class Match:
    """The best near-duplicate candidate of one article."""

    candidate: int
    similarity: float


def best_match(minhash: MinHash, candidates: dict[int, MinHash]) -> Match | None:
    """The most similar candidate at or above THRESHOLD, ties to the lowest id (oldest article)."""
    best: Match | None = None
    for key in sorted(candidates):
        score = similarity(minhash, candidates[key])
        if score >= THRESHOLD and (best is None or score > best.similarity):
            best = Match(key, score)
    return best
