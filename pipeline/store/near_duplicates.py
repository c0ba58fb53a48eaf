"""Near-duplicate clustering in SQL: MinHash signatures, LSH band keys found by index lookups, clusters."""

from __future__ import annotations

import psycopg2.extras

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

# Every member (and its signature) of the clusters the given articles belong to.
MEMBERSHIP_QUERY = (
    "SELECT m.article_id, m.cluster_id, s.signature FROM near_duplicate_members m"
    " LEFT JOIN article_minhash s ON s.article_id = m.article_id"
    " WHERE m.cluster_id IN (SELECT cluster_id FROM near_duplicate_members WHERE article_id = ANY(%s))")


def sign(rows: list[tuple[int, str, bytes | None]]) -> dict[int, dedup.Signature]:
    """MinHash signatures of the bodies long enough to cluster, by article id (pure CPU work).

    A signature the caller computed (`ArticleInput.signature`, e.g. in an extraction worker) is reused.
    """
    signatures = {}
    for aid, body, given in sorted(rows, key=lambda r: r[0]):
        sig = dedup.signature(body) if given is None else dedup.from_bytes(given) if given else None
        if sig is not None:
            signatures[aid] = sig
    return signatures


def link_near_duplicates(cur: Cursor, ids: list[int], signatures: dict[int, dedup.Signature],
                         fresh: frozenset[int] | set[int] = frozenset()) -> None:
    """Replace the articles' band keys, find candidates by LSH band keys (index lookups), join clusters.

    `fresh`: ids allocated in this transaction, which cannot have band keys, a signature or a cluster yet
    (nothing to delete or look up for them).
    """
    stored = [aid for aid in ids if aid not in fresh]
    if stored:
        cur.execute("WITH keys AS (DELETE FROM article_band_keys WHERE article_id = ANY(%(ids)s))"
                    " DELETE FROM article_minhash WHERE article_id = ANY(%(ids)s)", {"ids": stored})
    if not signatures:
        return
    keys = {aid: dedup.band_keys(sig) for aid, sig in signatures.items()}
    candidates, known, plan = _cluster_candidates(cur, keys, fresh)
    plan.signatures.update(signatures)
    seen: dict[tuple[int, int], list[int]] = {}
    for aid, sig in signatures.items():
        if aid not in plan.cluster_of:
            pool = candidates.get(aid, set()) | {c for bk in keys[aid] for c in seen.get(bk, [])}
            plan.join_best(aid, sig, dedup.ranked_matches(sig, {c: known[c] for c in pool if c in known}))
        for band_key in keys[aid]:
            seen.setdefault(band_key, []).append(aid)
        known[aid] = sig
    _write_signatures(cur, signatures, keys)
    plan.write(cur)


def _cluster_candidates(cur: Cursor, keys: dict[int, list[tuple[int, int]]], fresh: frozenset[int] | set[int]
                        ) -> tuple[dict[int, set[int]], dict[int, dedup.Signature], _ClusterPlan]:
    """Stored articles sharing a band key with each new one, their signatures, and their clusters."""
    triples = [(aid, band, key) for aid, pairs in keys.items() for band, key in pairs]
    owners, bands, values = ([t[i] for t in triples] for i in range(3))
    cur.execute(CANDIDATE_QUERY, (int_array(owners), int_array(bands), int_array(values)))
    candidates: dict[int, set[int]] = {}
    for owner, other in cur.fetchall():
        candidates.setdefault(owner, set()).add(other)
    found = sorted({c for cs in candidates.values() for c in cs})
    known: dict[int, dedup.Signature] = {}
    if found:
        cur.execute("SELECT article_id, signature FROM article_minhash WHERE article_id = ANY(%s)", (found,))
        known = {aid: dedup.from_bytes(sig) for aid, sig in cur.fetchall()}
    plan = _ClusterPlan()
    members = found + [aid for aid in keys if aid not in fresh]
    if members:
        cur.execute(MEMBERSHIP_QUERY, (members,))
        for aid, cluster, signature in cur.fetchall():
            plan.add_member(aid, cluster, None if signature is None else dedup.from_bytes(signature))
    return candidates, known, plan


def _write_signatures(cur: Cursor, signatures: dict[int, dedup.Signature],
                      keys: dict[int, list[tuple[int, int]]]) -> None:
    """COPY the signatures and band keys (many small rows: COPY is several times faster than INSERT)."""
    copy_lines(cur, "article_minhash (article_id, num_perm, signature)",
               (f"{aid}\t{dedup.NUM_PERM}\t\\\\x{dedup.to_bytes(sig).hex()}" for aid, sig in signatures.items()))
    copy_lines(cur, "article_band_keys (band, key, article_id)",
               (f"{band}\t{key}\t{aid}" for aid, pairs in keys.items() for band, key in pairs))


class _ClusterPlan:
    """Cluster changes decided in memory for one batch, written at the end in two statements.

    An article joins a cluster only when it is alike every member with a signature, not merely one of
    them: A~B and B~C never put A and C in one story when A and C are not alike (no chaining).
    """

    def __init__(self) -> None:
        self.cluster_of: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}  # cluster id (stored, or temporary negative) -> articles
        self.signatures: dict[int, dedup.Signature] = {}  # of the members and of the batch, by article
        self.new_clusters: dict[int, int] = {}  # temporary (negative) id -> representative article
        self.new_members: list[tuple[int, int, float, int | None]] = []

    def add_member(self, article_id: int, cluster: int, signature: dedup.Signature | None) -> None:
        """Record a stored membership (and the member's signature, when it has one)."""
        self.cluster_of[article_id] = cluster
        self.members.setdefault(cluster, []).append(article_id)
        if signature is not None:
            self.signatures[article_id] = signature

    def join_best(self, article_id: int, signature: dedup.Signature, matches: list[dedup.Match]) -> None:
        """Join the cluster of the most similar candidate whose every member the article is alike."""
        for match in matches:
            cluster = self.cluster_of.get(match.candidate)
            others = [m for m in self.members.get(cluster, []) if m != match.candidate] if cluster is not None else []
            if all(self._alike(signature, other) for other in others):
                self.join(article_id, match)
                return

    def _alike(self, signature: dedup.Signature, article_id: int) -> bool:
        other = self.signatures.get(article_id)
        return other is None or dedup.similarity(signature, other) >= dedup.THRESHOLD  # None: nothing to judge

    def join(self, article_id: int, match: dedup.Match) -> None:
        """Put the article in its match's cluster, opening one (represented by the match) if needed."""
        cluster = self.cluster_of.get(match.candidate)
        if cluster is None:
            cluster = -(len(self.new_clusters) + 1)
            self.new_clusters[cluster] = match.candidate
            self.cluster_of[match.candidate] = cluster
            self.members[cluster] = [match.candidate]
            self.new_members.append((match.candidate, cluster, 1.0, None))
        self.cluster_of[article_id] = cluster
        self.members[cluster].append(article_id)
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
