"""Downstream data products filled by real runs: a wire story at three outlets, an edited article."""

from __future__ import annotations

import html
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from pipeline.cli import main
from pipeline.newssite import Response, Site, rss

DAY = datetime(2026, 11, 5, tzinfo=timezone.utc)
WIRE = [
    "Ministers from forty countries agreed on Tuesday to a minimum corporate tax rate after two days of talks "
    "in Geneva, ending a dispute that had stalled negotiations for most of the year.",
    "The agreement sets a floor of fifteen percent and gives governments until the end of next year to write it "
    "into their own laws, officials said after the final session.",
    "Several smaller economies had argued for a longer transition period, and a compromise allows them to phase "
    "in the rate over three years while reporting their progress to the secretariat.",
    "Campaigners welcomed the deal but said the real test would be whether large companies change how they "
    "book their profits, and whether tax authorities get the staff they need to enforce it.",
]


def _page(title: str, paragraphs: list[str], published: datetime) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f"<html lang='en'><head><title>{html.escape(title)}</title><meta property='article:published_time' "
            f"content='{published.isoformat()}'></head><body><article><h1>{html.escape(title)}</h1>{body}"
            f"</article></body></html>")


def _outlet(intro: str | None, slug: str) -> Site:
    site = Site()
    paragraphs = ([intro + " " + WIRE[0]] if intro else [WIRE[0]]) + WIRE[1:]
    site.routes[f"/world/{slug}"] = Response(_page("Ministers agree corporate tax deal", paragraphs, DAY))
    site.routes["/feed.xml"] = Response(rss(site.base, [], [(site.url(f"/world/{slug}"), DAY)]),
                                        content_type="application/rss+xml")
    return site


def _query(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(sql)).all()]
    engine.dispose()
    return rows


def test_a_wire_story_from_three_outlets_is_one_story_and_an_edit_makes_a_revision(
    database_url: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    outlets = {"times": _outlet(None, "tax-deal"), "post": _outlet("GENEVA (Wire) -", "tax"),
               "herald": _outlet(None, "geneva-tax-agreement")}
    for site in outlets.values():
        site.__enter__()
    try:
        sources = tmp_path / "s.yaml"
        sources.write_text("".join(f"- name: {name}\n  feeds: [{site.base}/feed.xml]\n"
                                   for name, site in outlets.items()), encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", database_url)
        assert main(["run", "--sources", str(sources), "--date", DAY.date().isoformat()]) == 0

        stories = _query(database_url, "SELECT outlets, articles, sources FROM stories")
        assert stories == [(3, 3, ["herald", "post", "times"])]
        assert _query(database_url, "SELECT count(*) FROM articles_current") == [(2,)], \
            "the exact copy (times, herald) is folded; the edited wire copy (post) is a near-duplicate"
        relations = dict(_query(database_url, "SELECT source, relation FROM story_outlets"))
        assert sorted(relations.values()) == ["exact_duplicate", "near_duplicate", "original"]

        edited = WIRE[:3] + ["Update: the secretariat published the full text of the agreement on Wednesday."]
        outlets["times"].routes["/world/tax-deal"] = Response(_page("Ministers agree corporate tax deal", edited,
                                                                    DAY))
        assert main(["run", "--sources", str(sources), "--date", DAY.date().isoformat(), "--refetch"]) == 0
    finally:
        for site in outlets.values():
            site.__exit__(None, None, None)
    capsys.readouterr()
    current = _query(database_url, "SELECT body, version FROM articles WHERE source = 'times'")
    assert current == [("\n\n".join(edited), 2)]
    history = _query(database_url, "SELECT r.body FROM article_revisions r JOIN articles a ON a.id = r.article_id "
                                   "WHERE a.source = 'times'")
    assert history == [("\n\n".join(WIRE),)]
    hits = _query(database_url, "SELECT source FROM articles_current, websearch_to_tsquery('simple', "
                                "'secretariat published') q WHERE search @@ q")
    assert hits == [("times",)]


FOOTER = ("About this newspaper: the Test Herald has reported on the valley since 1888 and is owned by a charitable "
          "trust that reinvests every euro of profit in journalism. Our reporters follow the editors' code of "
          "practice; corrections are published on page two and online within a day of being reported to us. To "
          "contact the newsroom, write to the editor at the address below or call the news desk between eight in "
          "the morning and eight at night. Reproduction of any article in any form requires written permission.")


def _prose(seed: int, n: int) -> str:
    """`n` made-up words in sentences, different for every seed (no shared phrases between stories)."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mir", "sen", "tu", "vah", "dre", "pol", "ix", "nu", "bra", "the", "quo", "ri"]
    made_up = [("".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))) for _ in range(n)]
    return " ".join(w.capitalize() if i % 12 == 0 else w + ("." if i % 12 == 11 else "")
                    for i, w in enumerate(made_up)) + "."


def test_articles_sharing_a_long_footer_are_not_chained_into_one_story(
        make_database, tmp_path: Path, monkeypatch, capsys) -> None:
    """A site whose article bodies all end with the same long footer: the footer makes stories of similar
    length alike, and alike pairs overlap; still no story holds two articles that are not alike."""
    from pipeline import dedup
    from pipeline.newssite import Story, build_site, one_feed_source

    url = make_database()
    stories = [Story(f"s{i}", f"Story number {i}", DAY + timedelta(hours=i),
                     text=(_prose(i, 15 + 10 * i), FOOTER)) for i in range(10)]
    with build_site(stories, []) as site:
        sources = tmp_path / "s.yaml"
        sources.write_text(one_feed_source(site.base), encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", url)
        assert main(["run", "--sources", str(sources), "--date", DAY.date().isoformat()]) == 0
    capsys.readouterr()
    bodies = dict(_query(url, "SELECT id, body FROM articles"))
    assert len(bodies) == 10 and all(FOOTER[:60] in b for b in bodies.values())
    sig = {aid: dedup.signature(body) for aid, body in bodies.items()}
    alike = {(a, b) for a in sig for b in sig if a < b and dedup.similarity(sig[a], sig[b]) >= dedup.THRESHOLD}
    assert len(alike) >= 3, "premise: the footer makes several distinct stories look alike"
    members: dict[int, list[int]] = {}
    for aid, story in _query(url, "SELECT id, story_id FROM articles_current"):
        members.setdefault(story, []).append(aid)
    unlike_in_one_story = [(a, b) for ids in members.values() for a in ids for b in ids
                           if a < b and (a, b) not in alike]
    assert not unlike_in_one_story
    assert len(members) >= 5
