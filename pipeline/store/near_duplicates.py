"""Near-duplicate clustering in SQL: MinHash signatures, LSH band keys found by index lookups, clusters."""

from __future__ import annotations

import psycopg2.extras
from datasketch import MinHash

from pipeline import dedup
from pipeline.store.database import Cursor, copy_lines, int_array

# Candidates: one primary-key probe of article_band_keys per (band, key), never a scan.
CANDIDATE_QUERY = """
SELECT DISTINCT q.owner, b.article_id
FROM unnest(%s::bigint[], %s::smallint[], %s::bigint[]) AS q(owner, band, key)
CROSS JOIN LATERAL (
    SELECT k.article_id FROM article_band_keys k WHERE k.band = q.band AND k.key = q.key
    OFFSET 0  -- a fence: always probe the primary key per band key, never hash-join the whole table
) b
WHERE b.article_id <> q.owner
"""


def sign(rows: list[tuple[int, str, bytes | None]]) -> dict[int, MinHash]:
    """MinHash signatures of the bodies long enough to cluster, by article id (pure CPU work).

    A signature the caller computed (`ArticleInput.signature`, e.g. in an extraction worker) is reused.
    """
    signatures = {}
    for aid, body, given in sorted(rows, key=lambda r: r[0]):
        sig = dedup.signature(body) if given is None else dedup.from_bytes(given) if given else None
        if sig is not None:
            signatures[aid] = sig
    return signatures


def link_near_duplicates(cur: Cursor, ids: list[int], signatures: dict[int, MinHash]) -> None:
    """Replace the articles' band keys, find candidates by LSH band keys (index lookups), join clusters."""
    cur.execute("DELETE FROM article_band_keys WHERE article_id = ANY(%s)", (ids,))
    cur.execute("DELETE FROM article_minhash WHERE article_id = ANY(%s)", (ids,))
    if not signatures:
        return
    keys = {aid: dedup.band_keys(sig) for aid, sig in signatures.items()}
    candidates, known, members = _cluster_candidates(cur, keys)
    plan = _ClusterPlan(members)
    seen: dict[tuple[int, int], list[int]] = {}
    for aid, sig in signatures.items():
        if aid not in plan.cluster_of:
            pool = candidates.get(aid, set()) | {c for bk in keys[aid] for c in seen.get(bk, [])}
            match = dedup.best_match(sig, {c: known[c] for c in pool if c in known})
            if match is not None:
                plan.join(aid, match)
        for band_key in keys[aid]:
            seen.setdefault(band_key, []).append(aid)
        known[aid] = sig
    _write_signatures(cur, signatures, keys)
    plan.write(cur)


def _cluster_candidates(cur: Cursor, keys: dict[int, list[tuple[int, int]]]
                        ) -> tuple[dict[int, set[int]], dict[int, MinHash], dict[int, int]]:
    """Stored articles sharing a band key with each new one, their signatures, and cluster memberships."""
    triples = [(aid, band, key) for aid, pairs in keys.items() for band, key in pairs]
    owners, bands, values = ([t[i] for t in triples] for i in range(3))
    cur.execute(CANDIDATE_QUERY, (int_array(owners), int_array(bands), int_array(values)))
    candidates: dict[int, set[int]] = {}
    for owner, other in cur.fetchall():
        candidates.setdefault(owner, set()).add(other)
    found = sorted({c for cs in candidates.values() for c in cs})
    cur.execute("SELECT article_id, signature FROM article_minhash WHERE article_id = ANY(%s)", (found,))
    known = {aid: dedup.from_bytes(sig) for aid, sig in cur.fetchall()}
    cur.execute("SELECT article_id, cluster_id FROM near_duplicate_members WHERE article_id = ANY(%s)",
                (found + list(keys),))
    return candidates, known, dict(cur.fetchall())


def _write_signatures(cur: Cursor, signatures: dict[int, MinHash], keys: dict[int, list[tuple[int, int]]]) -> None:
    """COPY the signatures and band keys (many small rows: COPY is several times faster than INSERT)."""
    copy_lines(cur, "article_minhash (article_id, num_perm, signature)",
               (f"{aid}\t{dedup.NUM_PERM}\t\\\\x{dedup.to_bytes(sig).hex()}" for aid, sig in signatures.items()))
    copy_lines(cur, "article_band_keys (band, key, article_id)",
               (f"{band}\t{key}\t{aid}" for aid, pairs in keys.items() for band, key in pairs))


class _ClusterPlan:
    """Cluster changes decided in memory for one batch, written at the end in two statements."""

    def __init__(self, members: dict[int, int]) -> None:
        self.cluster_of = dict(members)
        self.new_clusters: dict[int, int] = {}  # temporary (negative) id -> representative article
        self.new_members: list[tuple[int, int, float, int | None]] = []

    def join(self, article_id: int, match: dedup.Match) -> None:
        """Put the article in its best match's cluster, opening one (represented by the match) if needed."""
        cluster = self.cluster_of.get(match.candidate)
        if cluster is None:
            cluster = -(len(self.new_clusters) + 1)
            self.new_clusters[cluster] = match.candidate
            self.cluster_of[match.candidate] = cluster
            self.new_members.append((match.candidate, cluster, 1.0, None))
        self.cluster_of[article_id] = cluster
        self.new_members.append((article_id, cluster, match.similarity, match.candidate))

    def write(self, cur: Cursor) -> None:
        if not self.new_members:
            return
        real: dict[int, int] = {}
        if self.new_clusters:
            cur.execute("SELECT nextval(pg_get_serial_sequence('near_duplicate_clusters', 'id'))"
                        " FROM generate_series(1, %s)", (len(self.new_clusters),))
            allocated = [r[0] for r in cur.fetchall()]
            real = dict(zip(sorted(self.new_clusters, reverse=True), allocated, strict=True))
            psycopg2.extras.execute_values(
                cur, "INSERT INTO near_duplicate_clusters (id, representative_article_id) VALUES %s",
                [(real[t], rep) for t, rep in self.new_clusters.items()])
        psycopg2.extras.execute_values(
            cur, "INSERT INTO near_duplicate_members (article_id, cluster_id, similarity, matched_article_id)"
            " VALUES %s", [(aid, real.get(cid, cid), sim, m) for aid, cid, sim, m in self.new_members])
