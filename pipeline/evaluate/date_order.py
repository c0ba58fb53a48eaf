"""How the publication-date signal order was chosen: in-sample and site-grouped cross-validated accuracy.

    python -m pipeline.evaluate.date_order [DATES_DEV_DIR] [--folds 5]

Reads every page of dates-dev once, records the day each signal gives (the functions the pipeline uses),
then searches every order of up to four signals (first signal with a day wins): on all pages (in-sample),
and for each of k folds grouped by site (registered domain) on the other folds, scored on the held-out one.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.evaluate.datasets import default_datasets_dir, load_set, read_page

Days = dict[str, str | None]  # signal name -> YYYY-MM-DD or None
SITE_LABELS = 2  # a site is the last two labels of the host (news.example.com -> example.com)


def signal_days(args: tuple[str, str]) -> Days:
    """The day each signal gives for one page (path, url); the same functions as the pipeline's."""
    from pipeline.extract.html import decode_page, parse_html
    from pipeline.extract.metadata import dates
    from pipeline.extract.metadata.page import article_ld, json_ld, meta_map
    from pipeline.models import DateSignal

    path, url = args
    tree = parse_html(decode_page(read_page(Path(path)), None))
    stamps = dates._page_stamps(tree, meta_map(tree), article_ld(json_ld(tree)))
    first = {signal: next((m.date().isoformat() for m, s in stamps if s == signal), None)
             for signal in (DateSignal.JSON_LD, DateSignal.META, DateSignal.TIME)}
    url_day, micro = dates._url_date(url), next(dates._microdata(tree), None)
    fast, extensive = (dates._htmldate(tree, url, flag, None) for flag in (False, True))
    days = {"url": url_day, "microdata": micro[0].date() if micro else None, "htmldate": fast,
            "htmldate-extensive": extensive}
    days |= {str(signal): first[signal] for signal in first}
    return {name: (day if isinstance(day, str) or day is None else day.isoformat()) for name, day in days.items()}


def accuracy(order: Sequence[str], pages: Sequence[str], found: dict[str, Days], truth: dict[str, str]) -> float:
    right = sum(1 for p in pages if next((found[p][s] for s in order if found[p][s]), None) == truth[p])
    return right / len(pages) if pages else 0.0


def best_order(pages: Sequence[str], found: dict[str, Days], truth: dict[str, str], signals: list[str]) -> tuple:
    orders = [o for n in range(1, 5) for o in itertools.permutations(signals, n)]
    return max(orders, key=lambda o: (accuracy(o, pages, found, truth), -len(o)))


def site(url: str) -> str:
    return ".".join((urlsplit(url).hostname or "").split(".")[-SITE_LABELS:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dates_dev", nargs="?", type=Path, default=default_datasets_dir() / "dates-dev")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    dev = load_set(args.dates_dev)
    truth = {p: str(item["date"]) for p, item in dev.truth.items()}
    urls = {p: str(item.get("url") or "") for p, item in dev.truth.items()}
    pages = list(truth)
    with ProcessPoolExecutor(args.jobs) as pool:
        found = dict(zip(pages, pool.map(signal_days, [(str(dev.page_file(p)), urls[p]) for p in pages],
                                         chunksize=8), strict=True))
    signals = list(next(iter(found.values())))
    for signal in signals:
        print(f"{signal:20s} alone {accuracy([signal], pages, found, truth):.3f}")
    chosen = best_order(pages, found, truth, signals)
    print(f"in-sample best order {' > '.join(chosen)}: {accuracy(chosen, pages, found, truth):.4f}")
    sites = sorted({site(urls[p]) for p in pages})
    random.Random(0).shuffle(sites)
    fold_of = {s: i % args.folds for i, s in enumerate(sites)}
    right = 0.0
    for fold in range(args.folds):
        train = [p for p in pages if fold_of[site(urls[p])] != fold]
        test = [p for p in pages if fold_of[site(urls[p])] == fold]
        order = best_order(train, found, truth, signals)
        score = accuracy(order, test, found, truth)
        right += score * len(test)
        print(f"fold {fold}: {len(test)} pages, order {' > '.join(order)}: {score:.4f}")
    print(f"cross-validated ({args.folds} folds grouped by site, {len(sites)} sites): {right / len(pages):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
