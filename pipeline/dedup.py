"""Duplicate detection values: content hash, MinHash signatures and LSH band keys (datasketch)."""

from __future__ import annotations

import hashlib
import re
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

_MIXERS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                    0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5],
                   dtype=np.uint64)  # odd 64-bit constants for multiply-add hashing
_WORD = re.compile(r"\w+", re.UNICODE)


def content_hash(body: str) -> str:
    """SHA-256 of the normalised body: equal hashes are exact duplicates (same as `ExtractedArticle`)."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def shingle_hashes(words: list[str], k: int = SHINGLE_WORDS) -> np.ndarray:
    """Distinct 32-bit hashes of the word k-grams (CRC32 per word, k-grams mixed with numpy)."""
    hashes = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in words), dtype=np.uint64, count=len(words))
    if len(hashes) >= k:
        with np.errstate(over="ignore"):  # multiply-add hashing wraps modulo 2**64 on purpose
            mixed = sum(hashes[i:len(hashes) - k + 1 + i] * _MIXERS[i] for i in range(k))
        hashes = mixed >> np.uint64(32)
    return np.unique(hashes & np.uint64(0xFFFFFFFF))


def words_of(text: str) -> list[str]:
    """Lower-cased words (Unicode letters and digits) of a text."""
    return _WORD.findall(text.casefold())


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
    words = words_of(text)
    if len(words) < MIN_WORDS:
        return None
    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME, permutations=_permutations(), hashfunc=int)
    minhash.update_batch(shingle_hashes(words).tolist())
    return minhash


def signature_bytes(text: str) -> bytes:
    """`to_bytes(signature(text))`, or b"" when the text is too short: what `ArticleInput.signature` takes."""
    minhash = signature(text)
    return b"" if minhash is None else to_bytes(minhash)


# A signature as computed (datasketch's MinHash) or as read back (its hash values alone: rebuilding a MinHash
# object validates the permutations again, ~0.3 ms each, for nothing the clustering needs).
Signature = MinHash | np.ndarray


def hash_values(sig: Signature) -> np.ndarray:
    """The signature's NUM_PERM hash values."""
    return sig.hashvalues if isinstance(sig, MinHash) else sig


def band_keys(minhash: Signature) -> list[tuple[int, int]]:
    """(band number, 63-bit key) per LSH band: two articles sharing any pair are candidates."""
    bands = _bands()
    rows = bands[0][1] - bands[0][0]
    values = hash_values(minhash)[: len(bands) * rows].astype(np.uint64).reshape(len(bands), rows)
    with np.errstate(over="ignore"):  # multiply-add hashing wraps modulo 2**64 on purpose
        keys = (values * _MIXERS[:rows]).sum(axis=1, dtype=np.uint64) >> np.uint64(1)
    return [(band, int(key)) for band, key in enumerate(keys.tolist())]


def to_bytes(minhash: Signature) -> bytes:
    """Serialise a signature for the database."""
    return hash_values(minhash).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """The hash values of a signature stored by `to_bytes` (all that band keys and similarity read)."""
    values = np.frombuffer(bytes(data), dtype=_permutations()[0].dtype)
    if len(values) != NUM_PERM:
        raise ValueError(f"a signature of {len(values)} hash values, expected {NUM_PERM}")
    return values


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of two signatures (as `MinHash.jaccard`: the share of equal hash values)."""
    values_a, values_b = hash_values(a), hash_values(b)
    if len(values_a) != len(values_b):
        raise ValueError("signatures with different numbers of permutations")
    return float(np.count_nonzero(values_a == values_b)) / float(len(values_a))


@dataclass(frozen=True)
class Match:
    """A near-duplicate candidate of one article and its estimated similarity."""

    candidate: int
    similarity: float


def ranked_matches(minhash: Signature, candidates: dict[int, Signature]) -> list[Match]:
    """Every candidate at or above THRESHOLD, most similar first, ties to the lowest id (oldest article)."""
    scored = (Match(key, similarity(minhash, candidates[key])) for key in sorted(candidates))
    return sorted((m for m in scored if m.similarity >= THRESHOLD), key=lambda m: -m.similarity)
