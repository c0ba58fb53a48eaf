"""daily_source_counts: whole UTC days recounted from the articles, for the windows named and for whatever
changed since the last count (an asset event lost on its way is made up for by the next one)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from pipeline.models import RunKind, Window
from pipeline.store import Store
from tests.store.helpers import article, item, words

UTC = timezone.utc
DAY = datetime(2019, 3, 10, tzinfo=UTC)


def _save(store: Store, source: str, slug: str, published: datetime) -> None:
    run = store.begin_run(RunKind.INGEST, None, [source], {})
    store.save_articles(run, [item(source, article(f"https://{source}.example/{slug}", words(40, slug),
                                                   published_at=published))])


def test_counts_per_source_and_day_and_catches_up_on_days_no_event_named(make_database) -> None:
    with Store.open(make_database()) as store:
        _save(store, "feed", "a", DAY + timedelta(hours=1))
        _save(store, "feed", "b", DAY + timedelta(hours=23))
        _save(store, "sitemap", "c", DAY + timedelta(hours=5))
        _save(store, "feed", "d", DAY + timedelta(days=1, hours=2))
        assert store.refresh_daily_counts([Window(DAY, DAY + timedelta(days=1))]) == 2  # first count: every day
        assert store.daily_counts(date(2019, 3, 9), date(2019, 3, 12)) == {
            (date(2019, 3, 10), "feed"): 2, (date(2019, 3, 10), "sitemap"): 1, (date(2019, 3, 11), "feed"): 1}

        _save(store, "sitemap", "e", DAY + timedelta(days=2, hours=3))  # its event never arrives
        assert store.refresh_daily_counts([Window(DAY, DAY + timedelta(days=1))]) == 2
        assert store.daily_counts(date(2019, 3, 12), date(2019, 3, 12)) == {(date(2019, 3, 12), "sitemap"): 1}
        assert store.refresh_daily_counts([Window(DAY, DAY + timedelta(days=1))]) == 1, "a rerun changes nothing"
        assert store.daily_counts(date(2019, 3, 9), date(2019, 3, 12)) == {
            (date(2019, 3, 10), "feed"): 2, (date(2019, 3, 10), "sitemap"): 1, (date(2019, 3, 11), "feed"): 1,
            (date(2019, 3, 12), "sitemap"): 1}
