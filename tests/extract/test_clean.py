"""Boilerplate removal by structure and by pattern; per-source rules; learned boilerplate."""

from __future__ import annotations

import lxml.html
import pytest

from pipeline.errors import ConfigError, ExtractError
from pipeline.extract.clean import (
    clean_paragraphs,
    is_furniture_line,
    learn_boilerplate,
    prune_tree,
    split_double_breaks,
    unwrap_layout_tables,
)
from pipeline.extract.process import process_page
from pipeline.models import CleaningRules
from pipeline.sources import validate_rules

STORY = [
    "The ferry will run twice a day from May, the operator said on Monday.",
    "Tickets go on sale next week, and residents of the island will pay half price.",
]


@pytest.mark.parametrize(
    "line",
    [
        "No time to read?",
        "Get a summary",
        "GET THE SUMMARY",
        "Previous Article",
        "Next article »",
        "« Previous",
        "Share this article",
        "Share on Facebook",
        "Facebook | Twitter | Email",
        "Advertisement",
        "Read more",
        "Read more: Ferry fares to rise",
        "READ ALSO - Pier closes for repairs",
        "Related stories",
        "You may also like",
        "Sign up for our morning newsletter",
        "Get our daily newsletter delivered to your inbox every morning.",
        "We use cookies to give you the best experience.",
        "Accept all cookies",
        "© 2026 Ellery Media. All rights reserved.",
        "This article was originally published on The Conversation.",
        "Back to top | Print this story",
        "12 Comments",
        "Leave a reply",
        "Tags: ferry, island, transport",
        "Copyright 2026 The Associated Press. All rights reserved. "
        "This material may not be published, broadcast, rewritten or redistributed.",
        "(Reporting by Jane Doe; Editing by John Smith)",
        "Ana Ruiz contributed reporting from Lisbon.",
        "Associated Press writers Li Wei and Tom Okafor contributed to this report.",
        "Additional reporting by Li Wei",
        "Write to Jane Doe at jane.doe@example.com",
        "jane.doe@example.com",
        "twitter.com/janedoe",
        "The pier at dawn. Photograph by Jane Doe/Ellery Gazette",
        "Ferry at the quay (AP Photo/Li Wei)",
        "Subscribe to the print edition: 12 issues for £11.99. Click here for more information.",
        "Order Reprints",
        "Text size",
        "4 min read",
        "Reading time: 2 minutes",
        "Like this story? Share it!",
        "SEE MORE: Ferry fares to rise",
        "Most read in world news",
        "* * *",
    ],
)
def test_furniture_lines(line: str) -> None:
    assert is_furniture_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "The next article of the treaty deals with fishing rights, the minister said.",
        "Readers shared their memories of the old pier with the paper.",
        "She said the summary of the report had been leaked to the press on Tuesday.",
        "Copyright law was changed in 2014 to allow libraries to lend e-books.",
        "Previous attempts to reopen the line failed in 1998 and 2004.",
        "Advertisement revenue at the paper fell by a third last year, according to its accounts.",
        "Reading time at the library doubled after the new study room opened.",
        "The big picture: what the vote means for the harbour",
        "Readers can contact the council by phone or in person at the town hall.",
        "The pier's café will stay open, the operator told Reuters.",
    ],
)
def test_story_lines_kept(line: str) -> None:
    assert not is_furniture_line(line)
    assert clean_paragraphs([line]) == [line]


def test_previous_next_navigation_with_neighbour_headlines() -> None:
    lines = [
        "No time to read?",
        "Get a summary",
        *STORY,
        "No time to read? Get a summary Previous Article",
        "Bridge toll to rise by ten pence",
        "Next Article",
        "Lifeboat crew rescues two kayakers",
    ]
    assert clean_paragraphs(lines) == STORY


def test_navigation_label_and_headline_on_one_line() -> None:
    assert (
        clean_paragraphs(
            [
                *STORY,
                "Previous Article Bridge toll to rise by ten pence",
                "Next Post: Lifeboat crew rescues two kayakers",
            ]
        )
        == STORY
    )


def test_promo_heading_drops_listed_headlines() -> None:
    lines = [
        *STORY,
        "Related stories",
        "Bridge toll to rise by ten pence",
        "Lifeboat crew rescues two kayakers",
    ]
    assert clean_paragraphs(lines) == STORY


def test_cta_glued_to_the_end_of_a_paragraph() -> None:
    assert clean_paragraphs([STORY[0] + " Read more"]) == [STORY[0]]


def test_byline_and_dateline_at_top_only() -> None:
    lines = ["By Jane Doe · 3 March 2026", "3 March 2026", *STORY, "By Jane Doe"]
    assert clean_paragraphs(lines) == [*STORY, "By Jane Doe"]


def test_metadata_rows_and_kickers_before_the_story() -> None:
    lines = [
        "05/10/2026 - Posted by Jane Doe - Category: Local - Tags: ferry",
        "ferry",
        "island",
        "Tuesday 3 March 2026 10:45",
        *STORY,
    ]
    assert clean_paragraphs(lines) == STORY


def test_list_items_and_late_short_lines_kept() -> None:
    lines = [*STORY, "Timetable", "- Weekdays", "- Sundays"]
    assert clean_paragraphs(lines) == lines


def test_cjk_sentences_are_not_kickers_or_headlines() -> None:
    lines = [
        "これが非常に困ったもの。",
        "特に困ったのが、起動ショートカットキーに関する設定です",
        "以下、その手順。",
    ]
    assert clean_paragraphs(lines) == lines
    assert clean_paragraphs(["Previous Article", *lines]) == lines[1:]


def test_per_source_line_patterns_and_learned_lines() -> None:
    rules = CleaningRules(
        drop_line_patterns=(r"^Ellery Gazette reporters? contributed",),
        learned_lines=frozenset({"Follow the Ellery Gazette on Mastodon!"}),
    )
    lines = [
        *STORY,
        "Ellery Gazette reporters contributed to this story.",
        "follow the ellery gazette on mastodon",
    ]
    assert clean_paragraphs(lines, rules) == STORY


def test_drop_selectors_in_the_tree() -> None:
    html = (
        "<html><body><article><h1>Ferry Returns</h1>"
        + "".join(f"<p>{s}</p>" for s in STORY)
        + '<div class="ellery-box"><p>Our reporters are in every village of the coast, every day.</p></div>'
        "</article></body></html>"
    )
    plain = process_page(html, "https://x.example/a").body
    assert "every village" in plain
    rules = CleaningRules(drop_selectors=("div.ellery-box",))
    assert process_page(html, "https://x.example/a", rules).body == "\n\n".join(STORY)


def test_furniture_containers_dropped_by_class_name() -> None:
    tree = lxml.html.fromstring(
        '<html><body><div class="post-body"><p>Story text that stays in the page.</p>'
        '<div class="social-share"><a href="#">Share</a></div>'
        '<section id="newsletter"><p>Subscribe</p></section></div></body></html>'
    )
    removed = prune_tree(tree)
    assert len(removed) == 2
    assert tree.text_content() == "Story text that stays in the page."


def test_large_content_container_with_furniture_word_is_kept() -> None:
    long_text = " ".join(["The ferry operator published its timetable for the whole summer season."] * 15)
    tree = lxml.html.fromstring(
        f'<html><body><div class="article-body share-enabled"><p>{long_text}</p></div></body></html>'
    )
    assert prune_tree(tree) == []


def test_layout_table_unwrapped_and_double_breaks_split() -> None:
    text = "A long paragraph of the story. " * 20
    tree = lxml.html.fromstring(
        f"<html><body><table><tr><td>{text}<br><br>Second part.</td></tr></table></body></html>"
    )
    assert unwrap_layout_tables(tree) == ["layout-table"]
    assert tree.find(".//table") is None
    assert split_double_breaks(tree) == ["double-break"]
    assert [p.text_content().strip() for p in tree.iter("p")] == [text.strip(), "Second part."]


def test_data_table_kept() -> None:
    tree = lxml.html.fromstring(
        "<html><body><table><tr><td>Ferry</td><td>09:00</td></tr></table></body></html>"
    )
    assert unwrap_layout_tables(tree) == []


def test_invalid_rules() -> None:
    with pytest.raises(ConfigError):
        validate_rules(CleaningRules(drop_selectors=("div[",)))
    with pytest.raises(ConfigError):
        validate_rules(CleaningRules(drop_line_patterns=("(unclosed",)))
    validate_rules(CleaningRules(drop_selectors=("div.ad", "#share"), drop_line_patterns=(r"^Foo\b",)))
    with pytest.raises(ExtractError) as caught:
        process_page(
            "<html><body><p>text</p></body></html>",
            "https://x.example/a",
            CleaningRules(drop_selectors=("div[",)),
        )
    assert caught.value.reason == "bad_rule"


def test_learn_boilerplate_finds_repeated_lines() -> None:
    footer = "Follow the Ellery Gazette on Mastodon for more local news."
    bodies = [
        f"Story number {i} about the harbour.\n\nA different second line {i}.\n\n{footer}" for i in range(10)
    ]
    bodies += ["A story without the footer.\n\nAnother line."] * 2
    learned = learn_boilerplate(bodies, min_share=0.3, min_docs=5)
    assert list(learned) == ["follow the ellery gazette on mastodon for more local news"]
    assert learned["follow the ellery gazette on mastodon for more local news"] == pytest.approx(10 / 12)
    rules = CleaningRules(learned_lines=frozenset(learned))
    assert clean_paragraphs(bodies[0].split("\n\n"), rules) == bodies[0].split("\n\n")[:2]


def test_learned_lines_compare_case_and_punctuation_insensitively() -> None:
    bodies = [
        f"Story {i} here.\n\nFOLLOW US on Mastodon!" if i % 2 else f"Story {i} here.\n\nFollow us on Mastodon"
        for i in range(6)
    ]
    learned = learn_boilerplate(bodies, min_share=0.5, min_docs=5)
    assert learned == {"follow us on mastodon": 1.0}
    rules = CleaningRules(learned_lines=frozenset(learned))
    assert clean_paragraphs(["Story 9 here.", "Follow us on Mastodon."], rules) == ["Story 9 here."]


def test_learn_boilerplate_needs_enough_documents_and_share() -> None:
    assert learn_boilerplate(["same line here"] * 4, min_docs=5) == {}
    bodies = ["common line here\n\nunique %d" % i for i in range(2)] + ["other %d" % i for i in range(8)]
    assert learn_boilerplate(bodies, min_share=0.3, min_docs=5) == {}
