"""URL canonicalisation: one spelling per article."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.urls import canonicalise_url, host_of, is_tracking_param, site_root


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Example.COM/a", "http://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/../../a", "https://example.com/a"),
        ("https://example.com/%7euser/%c3%a9t%c3%a9", "https://example.com/~user/%C3%A9t%C3%A9"),
        ("https://example.com/caf\u00e9 au lait", "https://example.com/caf%C3%A9%20au%20lait"),
        ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("https://B\u00fccher.Example/x", "https://xn--bcher-kva.example/x"),
        ("https://example.com./a", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_canonical_spelling(raw: str, expected: str) -> None:
    assert canonicalise_url(raw) == expected


def test_tracking_variants_collapse_to_one_url() -> None:
    variants = [
        "https://news.example/2026/11/story?id=7",
        "https://news.example/2026/11/story?utm_source=rss&utm_medium=feed&id=7",
        "https://NEWS.example:443/2026/11/story?id=7&fbclid=IwAR0x#top",
        "https://news.example/2026/11/story?gclid=abc&id=7&mc_cid=1&mc_eid=2",
        "https://news.example/2026/11/./story?UTM_Campaign=x&id=7&ref=twitter",
    ]
    assert {canonicalise_url(v) for v in variants} == {"https://news.example/2026/11/story?id=7"}


def test_meaningful_query_params_are_kept_and_sorted() -> None:
    assert (
        canonicalise_url("https://e.com/s?page=2&q=a+b&utm_term=x&id=9")
        == "https://e.com/s?id=9&page=2&q=a+b"
    )
    assert canonicalise_url("https://e.com/s?flag&x=") == "https://e.com/s?flag&x="
    assert canonicalise_url("https://e.com/s?q=%e2%82%ac") == "https://e.com/s?q=%E2%82%AC"


def test_relative_urls_resolve_against_base() -> None:
    assert canonicalise_url("../b?utm_source=x", "https://e.com/a/c/d") == "https://e.com/a/b"
    assert canonicalise_url("//cdn.e.com/x", "https://e.com/") == "https://cdn.e.com/x"


def test_non_http_schemes_are_left_alone() -> None:
    assert canonicalise_url("mailto:a@b.c") == "mailto:a@b.c"
    assert canonicalise_url("javascript:void(0)") == "javascript:void(0)"


def test_canonicalisation_is_idempotent() -> None:
    for raw in ["HTTP://E.com:80/a/../b?z=1&a=2&utm_x=3#f", "https://b\u00fccher.example/%7ex?q=caf%c3%a9"]:
        once = canonicalise_url(raw)
        assert canonicalise_url(once) == once


def test_host_of_and_site_root() -> None:
    assert host_of("https://WWW.Example.com:443/a") == "www.example.com"
    assert host_of("http://127.0.0.1:8080/a") == "127.0.0.1:8080"
    assert site_root("HTTP://Example.com:80/a/b?c") == "http://example.com"


@pytest.mark.parametrize("name", ["utm_source", "UTM_MEDIUM", "fbclid", "gclid", "mc_cid", "mc_eid", "ref"])
def test_tracking_params(name: str) -> None:
    assert is_tracking_param(name)


@pytest.mark.parametrize("name", ["id", "page", "q", "p", "article"])
def test_meaningful_params(name: str) -> None:
    assert not is_tracking_param(name)


_SEGMENT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="?#&=/"),
    max_size=8,
)
_PARAM = st.sampled_from(["id", "page", "q", "utm_source", "fbclid", "ref", "a", "A", "x y", "%41"])


@st.composite
def messy_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "HTTP", "https", "HtTpS"]))
    host = draw(
        st.sampled_from(["example.com", "EXAMPLE.com", "b\u00fccher.example", "127.0.0.1", "[::1]", "e.com."])
    )
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/".join(
        draw(st.lists(st.one_of(_SEGMENT, st.sampled_from([".", "..", "%7e", "%2F", "%c3%a9"])), max_size=5))
    )
    params = draw(st.lists(st.tuples(_PARAM, _SEGMENT), max_size=4))
    query = "&".join(f"{k}={v}" for k, v in params)
    fragment = draw(st.sampled_from(["", "#top", "#"]))
    return f"{scheme}://{host}{port}/{path}" + (f"?{query}" if query else "") + fragment


@settings(max_examples=300, deadline=None)
@given(messy_urls())
def test_canonicalisation_is_idempotent_on_messy_urls(url: str) -> None:
    once = canonicalise_url(url)
    assert canonicalise_url(once) == once
    assert once == once.strip() and "#" not in once and " " not in once
    assert "utm_source=" not in once and "fbclid=" not in once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_canonicalisation_of_junk_raises_only_value_error(junk: str) -> None:
    try:
        canonicalise_url(junk, "https://example.com/a/")
    except ValueError:
        pass
