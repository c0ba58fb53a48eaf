"""Near-duplicates: a wire story run by three outlets is one story; finding a cluster is an index lookup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import dedup
from pipeline.models import ArticleInput
from pipeline.store import Store
from pipeline.store.near_duplicates import CANDIDATE_QUERY
from tests.store.helpers import WHEN, WIRE_STORY, article, item, rows, scalar, wire, words

REPO = Path(__file__).resolve().parents[2]


def geneva(tag: str) -> str:
    """A lightly edited copy: dateline added, one phrase changed."""
    return "GENEVA (Wire) - " + wire(tag).replace("on Monday", "on Monday evening")


def shortened(tag: str) -> str:
    """Another copy: last sentence cut, a credit line added."""
    return wire(tag).replace("Business groups welcomed the clarity", "Additional reporting by Ana Lopez")


def test_wire_story_from_three_sources_is_one_story(store: Store, run_id: int, tag: str) -> None:
    sources = [f"{tag}-{name}" for name in ("times", "post", "herald")]
    batch = [item(sources[0], article(f"https://{sources[0]}.example/tax-deal", wire(tag))),
             item(sources[1], article(f"https://{sources[1]}.example/geneva", geneva(tag), title="Tax deal"))]
    other = item(sources[0], article(f"https://{sources[0]}.example/sport", words(120, f"{tag}sport")))
    store.save_articles(run_id, [*batch, other])
    later = item(sources[2], article(f"https://{sources[2]}.example/2026/03/02/tax", shortened(tag)))
    store.save_articles(run_id, [later])  # a later batch finds the cluster through the band keys

    clusters = rows(store, "SELECT m.cluster_id, a.source, m.similarity FROM near_duplicate_members m"
                    " JOIN articles a ON a.id = m.article_id WHERE a.source = ANY(:s) ORDER BY a.id",
                    s=sources)
    # other tests' copies of the wire story share the session database and may be in the cluster too
    assert len(clusters) == 3 and len({c[0] for c in clusters}) == 1
    assert [c[1] for c in clusters] == sources
    assert all(c[2] >= dedup.THRESHOLD for c in clusters)
    assert scalar(store, "SELECT count(DISTINCT story_id) FROM articles_current WHERE source = ANY(:s)",
                  s=sources) == 2  # the wire story and the sport article
    (outlets,) = rows(store, "SELECT sources FROM stories WHERE story_id IN (SELECT story_id"
                      " FROM articles_current WHERE url = :u)", u=f"https://{sources[2]}.example/2026/03/02/tax")
    assert set(sources) <= set(outlets[0])


def test_unrelated_articles_are_not_clustered(store: Store, run_id: int, tag: str) -> None:
    batch = [item(tag, article(f"https://{tag}.example/{i}", words(100, f"{tag}u{i}x"))) for i in range(5)]
    store.save_articles(run_id, batch)
    assert scalar(store, "SELECT count(*) FROM near_duplicate_members m"
                  " JOIN articles a ON a.id = m.article_id WHERE a.source = :s", s=tag) == 0
    assert scalar(store, "SELECT count(*) FROM article_band_keys k JOIN articles a ON a.id = k.article_id"
                  " WHERE a.source = :s", s=tag) == 5 * len(dedup.band_keys(dedup.signature(words(100, "z"))))


def test_a_revised_article_keeps_its_cluster(store: Store, run_id: int, tag: str) -> None:
    first = article(f"https://{tag}-a.example/x", wire(tag))
    copy = article(f"https://{tag}-b.example/x", geneva(tag))
    store.save_articles(run_id, [item(f"{tag}-a", first), item(f"{tag}-b", copy)])
    edited = article(copy.url, geneva(tag) + " Updated with reaction from business groups.")
    assert store.save_articles(run_id, [item(f"{tag}-b", edited)]).updated == 1
    assert scalar(store, "SELECT count(DISTINCT m.cluster_id) FROM near_duplicate_members m"
                  " JOIN articles a ON a.id = m.article_id WHERE a.url IN (:a, :b)",
                  a=first.url, b=copy.url) == 1


def test_cluster_lookup_is_an_index_probe(store: Store) -> None:
    with store.engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute("SET enable_seqscan = off")  # small test tables: make the planner show the index path
        cursor.execute("EXPLAIN " + CANDIDATE_QUERY, ([1, 2], [0, 1], [123, 456]))
        plan = "\n".join(r[0] for r in cursor.fetchall())
        conn.rollback()
    assert "article_band_keys_pkey" in plan and "Nested Loop" in plan and "Hash Join" not in plan


def test_signatures_are_stable_and_similar_for_light_edits() -> None:
    a, b = dedup.signature(WIRE_STORY), dedup.signature(geneva("x"))
    assert dedup.to_bytes(a) == dedup.to_bytes(dedup.signature(WIRE_STORY))
    assert dedup.similarity(a, dedup.from_bytes(dedup.to_bytes(b))) >= dedup.THRESHOLD
    assert set(dedup.band_keys(a)) & set(dedup.band_keys(b))
    assert dedup.signature("too short to cluster") is None


@pytest.mark.slow  # two Python subprocesses
def test_signatures_do_not_depend_on_the_process() -> None:
    """Stored signatures must match ones computed later by another process (no salted hash())."""
    code = ("from pipeline import dedup; from tests.store.helpers import WIRE_STORY;"
            " print(dedup.to_bytes(dedup.signature(WIRE_STORY)).hex())")
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                              check=True)
        outputs.add(done.stdout.strip())
    assert outputs == {dedup.to_bytes(dedup.signature(WIRE_STORY)).hex()}


def test_signatures_computed_by_the_caller_are_used(store: Store, run_id: int, tag: str) -> None:
    first = item(f"{tag}-a", article(f"https://{tag}-a.example/1", wire(tag)))
    copy = article(f"https://{tag}-b.example/1", geneva(tag))
    presigned = ArticleInput(f"{tag}-b", None, WHEN, copy, signature=dedup.signature_bytes(copy.body))
    opted_out = ArticleInput(f"{tag}-c", None, WHEN, article(f"https://{tag}-c.example/1", shortened(tag)),
                             signature=b"")  # the caller says: too short to cluster
    store.save_articles(run_id, [first, presigned, opted_out])
    stored = rows(store, "SELECT a.source, m.similarity, s.signature FROM articles a"
                  " LEFT JOIN near_duplicate_members m ON m.article_id = a.id"
                  " LEFT JOIN article_minhash s ON s.article_id = a.id"
                  " WHERE a.source LIKE :p ORDER BY a.source",
                  p=f"{tag}-%")
    assert [(source, sim is not None) for source, sim, _ in stored] == [
        (f"{tag}-a", True), (f"{tag}-b", True), (f"{tag}-c", False)]
    assert bytes(stored[1][2]) == presigned.signature and stored[2][2] is None


def _blocks(tag: str, first: int, last: int) -> str:
    """Paragraph-sized blocks `first`..`last` of 30 words each, unique to the test."""
    return " ".join(words(30, f"{tag}b{k}x") for k in range(first, last + 1))


def _chain(tag: str) -> dict[str, str]:
    """Bodies A, B, C of shifted blocks whose estimated similarities make the chain (the test's premise).

    MinHash estimates scatter around the true Jaccard (0.6, 0.6, 0.33 here), and LSH finds a pair as
    candidates only when they share a band key: try salts until both hold.
    """
    for salt in range(100):
        bodies = {k: _blocks(f"{tag}s{salt}", first, first + 11) for k, first in (("a", 0), ("b", 3), ("c", 6))}
        sig = {k: dedup.signature(v) for k, v in bodies.items()}
        keys = {k: set(dedup.band_keys(s)) for k, s in sig.items()}
        if (dedup.similarity(sig["a"], sig["b"]) >= dedup.THRESHOLD + 0.05
                and dedup.similarity(sig["b"], sig["c"]) >= dedup.THRESHOLD + 0.05
                and dedup.similarity(sig["a"], sig["c"]) < dedup.THRESHOLD - 0.1
                and keys["a"] & keys["b"] and keys["b"] & keys["c"]):  # LSH finds both links of the chain
            return bodies
    raise AssertionError("no salt gives the chain A~B~C with A and C unlike")


@pytest.mark.parametrize("batches", [1, 3], ids=["one-batch", "three-batches"])
def test_a_chain_of_alike_articles_does_not_make_unlike_ones_one_story(
        store: Store, run_id: int, tag: str, batches: int) -> None:
    """A~B and B~C, but A and C are not alike: A and C never end up in one story."""
    bodies = _chain(tag)
    items = [item(tag, article(f"https://{tag}.example/{k}", body)) for k, body in bodies.items()]
    for chunk in ([items] if batches == 1 else [[i] for i in items]):
        store.save_articles(run_id, chunk)
    story = dict(rows(store, "SELECT right(url, 1), story_id FROM articles_current WHERE source = :s", s=tag))
    assert story["a"] == story["b"]  # B joins A's story
    assert story["c"] != story["a"]  # C is alike B but not A: it stays a story of its own


def test_a_revised_body_replaces_its_band_keys_beside_new_articles(store: Store, run_id: int, tag: str) -> None:
    """One batch with a new article and a revised one: the revised article's old keys and signature go (its
    id was stored before), the new one gets its own, and the new copy of the revised text joins its cluster."""
    url = f"https://{tag}-r.example/story"
    store.save_articles(run_id, [item(f"{tag}-r", article(url, words(120, f"{tag}old")))])
    new_text = wire(tag)
    batch = [item(f"{tag}-r", article(url, new_text)),
             item(f"{tag}-n", article(f"https://{tag}-n.example/copy", geneva(tag)))]
    counts = store.save_articles(run_id, batch)
    assert (counts.inserted, counts.updated) == (1, 1)
    keys = len(dedup.band_keys(dedup.signature(new_text)))
    per_article = rows(store, "SELECT a.url, count(k.*), bool_and(s.signature = :sig) FROM articles a"
                       " JOIN article_band_keys k ON k.article_id = a.id JOIN article_minhash s ON s.article_id = a.id"
                       " WHERE a.source LIKE :s GROUP BY a.url ORDER BY a.url", s=f"{tag}-%",
                       sig=dedup.to_bytes(dedup.signature(new_text)))
    assert [(u, n) for u, n, _ in per_article] == [(f"https://{tag}-n.example/copy", keys), (url, keys)]
    assert [same for _, _, same in per_article] == [False, True]  # the revised article carries its new signature
    assert scalar(store, "SELECT count(DISTINCT m.cluster_id) FROM near_duplicate_members m"
                  " JOIN articles a ON a.id = m.article_id WHERE a.source LIKE :s", s=f"{tag}-%") == 1


def test_signatures_read_back_compare_as_computed() -> None:
    """A signature read back from bytes (hash values alone) gives the same band keys and similarities."""
    a, b = dedup.signature(wire("x")), dedup.signature(geneva("x"))
    a_back, b_back = dedup.from_bytes(dedup.to_bytes(a)), dedup.from_bytes(dedup.to_bytes(b))
    assert dedup.band_keys(a_back) == dedup.band_keys(a)
    assert dedup.similarity(a_back, b_back) == dedup.similarity(a, b) == float(a.jaccard(b))
    assert dedup.to_bytes(a_back) == dedup.to_bytes(a)
    with pytest.raises(ValueError):
        dedup.from_bytes(dedup.to_bytes(a)[:-4])
