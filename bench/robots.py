"""CPU of robots.txt per URL: a 5 MB robots.txt of 24,000 wildcard rules, as served, through the Fetcher.

Prints the figures (no assertions): the parse once per site and run, and the CPU of checking one URL.
    .venv/bin/python bench/robots.py [--rules 24000] [--urls 200]
"""

from __future__ import annotations

import argparse
import time

from pipeline.fetch.robots import ROBOTS_MAX_BYTES, parse_robots


def robots_txt(rules: int) -> str:
    """~5 MB at 24,000 rules: long wildcard patterns, the costly kind for a matcher."""
    lines = [f"Disallow: /private/*/section-{i}/*/archive-{'x' * 160}/*.pdf$" for i in range(rules)]
    return "User-agent: *\n" + "\n".join(lines) + "\nAllow: /\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", type=int, default=24_000)
    parser.add_argument("--urls", type=int, default=200)
    args = parser.parse_args()
    text = robots_txt(args.rules)
    for label, body in (("whole file (no cap)", text), (f"first {ROBOTS_MAX_BYTES // 1024} KiB (the cap)",
                                                        text[:ROBOTS_MAX_BYTES])):
        start = time.process_time()
        rules = parse_robots(body, "news-pipeline/0.1")
        parsed = time.process_time() - start
        start = time.process_time()
        for i in range(args.urls):
            rules.allows(f"https://news.example/world/2026/11/05/story-{i}-about-the-harbour")
        per_url = (time.process_time() - start) / args.urls
        print(f"robots.txt {len(body.encode()) / 1e6:.2f} MB, {body.count(chr(10))} lines, {label}: "
              f"parse once {parsed:.3f} s CPU, per URL {per_url * 1000:.2f} ms CPU")


if __name__ == "__main__":
    main()
