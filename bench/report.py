"""Print the benchmark's figures: run details, stage times, baselines and one table of figures against targets."""

from __future__ import annotations

from typing import Any

TARGET_NAIVE = 5.0
TARGET_BOUND = 0.7
TARGET_STORE = 2000.0
TARGET_MEMORY = 1.2
TARGET_CPU = 1.4  # the CPU budget on 2 cores: whole path per page / trafilatura alone per page


def print_report(f: dict[str, Any]) -> None:
    """Everything of one benchmark run, ending with the figures/targets table."""
    p, m, run = f["params"], f["machine"], f["ingest"]
    print(f"\n== news-pipeline ingest benchmark: N={p['n']} pages, H={p['hosts']} hosts, "
          f"latency {p['latency_s'] * 1000:g} ms, {p.get('templates')} template pages from {p['pages']}")
    print(_machine_line(m))
    print(f"politeness (sources file, as resolved by the Fetcher): {run.get('politeness')}; "
          f"fetch_workers={run.get('fetch_workers')}, extract_workers={run.get('extract_workers')}, "
          f"batch_size={run.get('batch_size')}")
    _print_run("pipeline run (run_ingest, end to end)", run)
    print("rows in the database: " + ", ".join(f"{k}={v}" for k, v in f["rows"].items()))
    if "raw_layer" in f:
        raw = f["raw_layer"]
        print(f"raw layer: {raw['pages']} pages, {raw['rows_with_body']} rows holding a body; PostgreSQL "
              f"{raw['pg_bytes_per_page'] / 1024:.2f} KiB/page (raw_pages + archive_files, TOAST and indexes), "
              f"WARC {raw['warc_bytes_per_page'] / 1024:.1f} KiB/page in {raw['warc_files']} files "
              f"({p.get('archive', 'temporary directory')}); keep-raw (publish + index) {raw['keep_raw_s']:.2f} s"
              + (f" = {raw['keep_raw_pages_per_s']:,.0f} pages/s" if raw["keep_raw_pages_per_s"] else ""))
    if "reprocess" in f:
        _print_run("reprocess (run_reprocess, database -> database)", f["reprocess"])
        print("rows after reprocess: " + ", ".join(f"{k}={v}" for k, v in f["rows_after_reprocess"].items()))
    if "store_bulk" in f:
        s = f["store_bulk"]
        print(f"\nstore bulk: Store.save_articles of {s['articles']} extracted articles in batches of {s['batch']}"
              f" into a fresh database (MinHash signatures precomputed, as the workers do):"
              f" {s['seconds']:.2f} s = {s['articles_per_s']:,.0f} articles/s; what-if without"
              f" the generated full-text column articles.search: {s['without_search_articles_per_s']:,.0f} articles/s")
    if "naive" in f:
        _print_baselines(f, p["n"])
    if "memory_scaling" in f:
        _print_memory_sizes(f["memory_scaling"])
    print_table(figure_rows(f))


def _machine_line(m: dict[str, Any]) -> str:
    return (f"machine: nproc={m['nproc']}, {m['cpu_model']}, {m['ram_gib']} GiB RAM, Python {m['python']}, "
            f"PostgreSQL {m.get('postgresql', '?')}, {m['os']}")


def _print_run(title: str, r: dict[str, Any]) -> None:
    per = r["articles"] or 1
    print(f"\n-- {title}")
    print(f"wall {r['wall_s']:.2f} s; {r['pages']} pages, {r['articles']} articles stored "
          f"(inserted {r['inserted']}, updated {r['updated']}, unchanged {r['unchanged']}, "
          f"exact duplicates {r['duplicates']}); failures {r['failures'] or 'none'}")
    print(f"throughput {r['articles_per_s']:.1f} articles/s ({r['pages_per_s']:.1f} pages/s); "
          f"CPU {r['cpu_s']:.1f} s = {r['cpu_s'] / per * 1000:.1f} ms/article "
          f"(main process {r['cpu_main_s']:.1f} s incl. sampler {r['sampler_cpu_s']:.2f} s, "
          f"extraction workers {r['cpu_children_s']:.1f} s), plus PostgreSQL backends {r['cpu_postgres_s']:.1f} s"
          f" = {(r['cpu_s'] + r['cpu_postgres_s']) / per * 1000:.1f} ms/article with the database; "
          f"peak RSS of the process tree {r['peak_rss_mib']:.0f} MiB "
          f"({', '.join(f'{k} {v}' for k, v in r['peak_rss_by_process_mib'].items())})")
    print("time per stage (stages overlap: fetch threads, extraction processes and the store run concurrently):")
    if r["fetch_pages"]:
        mean = r["fetch_request_s"] / r["fetch_pages"] * 1000
        print(f"  discover                  {r['discover_s']:7.2f} s wall (feeds, robots.txt)")
        print(f"  fetch                     {r['fetch_span_s']:7.2f} s from first to last page; {r['fetch_pages']}"
              f" requests, {mean:.0f} ms each, {r['fetch_request_s'] / max(r['fetch_span_s'], 1e-9):.1f} in flight")
    busy = r["extract_cpu_s"] / max(r["extract_span_s"] * r.get("extract_workers", 2), 1e-9)
    print(f"  extract+clean+normalise   {r['extract_cpu_s']:7.2f} s CPU in the workers "
          f"({r['extract_cpu_s'] / max(r['pages'], 1) * 1000:.1f} ms/page), {r['extract_span_s']:.2f} s wall from first"
          f" job to last result (workers busy {busy:.0%}); main thread waited {r['extract_wait_s']:.2f} s on a full"
          " pool")
    by_call = sorted(r["store_by_call_s"].items(), key=lambda kv: -kv[1])
    calls = ", ".join(f"{k} {v:.2f}" for k, v in by_call if v >= 0.01)
    rate = r.get("store_articles_per_s_in_run")
    print(f"  store                     {r['store_s']:7.2f} s wall in Store calls ({calls})"
          + (f"; save_articles {rate:,.0f} articles/s in the run" if rate else ""))


def _print_baselines(f: dict[str, Any], n: int) -> None:
    naive, bound = f["naive"], f["bound"]
    note = f", rate extrapolated to N={n}" if naive["extrapolated"] else ""
    print(f"\n-- baselines on the same pages\nnaive (sequential requests.get -> trafilatura.extract -> INSERT+commit):"
          f" {naive['pages']} pages in {naive['seconds']:.2f} s = {naive['per_s']:.2f} pages/s{note};"
          f" {naive['cpu_s'] / max(naive['pages'], 1) * 1000:.1f} ms CPU/page; {naive['extracted']} with text")
    print(f"extraction bound (trafilatura.extract alone, Pool({bound['workers']}), bytes in memory): {bound['pages']}"
          f" pages in {bound['seconds']:.2f} s = {bound['per_s']:.2f} pages/s;"
          f" {bound['cpu_s'] / max(bound['pages'], 1) * 1000:.1f} ms CPU/page; {bound['extracted']} with text")


def figure_rows(f: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, met?) rows of one run."""
    run, n = f["ingest"], f["params"]["n"]
    rows = [("end to end (articles/s)", f"{run['articles_per_s']:.1f}", "", ""),
            ("CPU per article (s)", f"{run['cpu_s_per_article'] or 0:.4f}", "", ""),
            ("CPU per article incl. PostgreSQL backends (s)", f"{run['cpu_with_postgres_s_per_article'] or 0:.4f}",
             "", ""),
            ("peak RSS, process tree (MiB)", f"{run['peak_rss_mib']:.0f}", "", ""),
            ("stage: fetch, first to last page (s)", f"{run['fetch_span_s']:.2f}", "", ""),
            ("stage: extract+clean+normalise CPU (s)", f"{run['extract_cpu_s']:.2f}", "", ""),
            ("stage: store, wall in Store calls (s)", f"{run['store_s']:.2f}", "", ""),
            ("rows: articles", str(f["rows"]["articles"]), f"= N ({n})", _met(f["rows"]["articles"] == n)),
            ("rows: raw_pages", str(f["rows"]["raw_pages"]), f"= N ({n})", _met(f["rows"]["raw_pages"] == n)),
            ("rows: failures", str(f["rows"]["failures"]), "", "")]
    if "raw_layer" in f:
        raw = f["raw_layer"]
        rows += [("raw layer: PostgreSQL / WARC KiB per page", f"{raw['pg_bytes_per_page'] / 1024:.2f} / "
                  f"{raw['warc_bytes_per_page'] / 1024:.1f}", "", ""),
                 ("raw layer: keep-raw write (pages/s)", f"{raw['keep_raw_pages_per_s'] or 0:,.0f}", "", "")]
    bound = f.get("bound", {}).get("per_s")
    if "naive" in f:
        naive = f["naive"]["per_s"]
        rows += [("naive baseline (articles/s)" + (" *" if f["naive"]["extrapolated"] else ""), f"{naive:.2f}", "", ""),
                 ("extraction bound (articles/s)", f"{bound:.2f}", "", ""),
                 ("pipeline / naive", _ratio(run["articles_per_s"], naive), f">= {TARGET_NAIVE:g}x",
                  _met(_div(run["articles_per_s"], naive) >= TARGET_NAIVE)),
                 ("pipeline / extraction bound", _ratio(run["articles_per_s"], bound), f">= {TARGET_BOUND:g}x",
                  _met(_div(run["articles_per_s"], bound) >= TARGET_BOUND)),
                 ("CPU/page: trafilatura alone / pipeline tree", _ratio(_per(f["bound"]), run["cpu_s_per_article"]),
                  "", "")]
    rows += _cpu_rows(run, f.get("bound"))
    if "reprocess" in f:
        rate = f["reprocess"]["pages_per_s"]
        rows.append(("reprocess (pages/s)", f"{rate:.1f}", "", ""))
        read_s = f["reprocess"].get("archive_read_s")
        if read_s:
            rows.append(("reprocess: reading raw pages from WARC (pages/s of read wall)",
                         f"{f['reprocess']['pages'] / read_s:,.0f}", "", ""))
        if bound:
            rows.append(("reprocess / extraction bound", _ratio(rate, bound), f">= {TARGET_BOUND:g}x",
                         _met(_div(rate, bound) >= TARGET_BOUND)))
    if "store_bulk" in f:
        rate = f["store_bulk"]["articles_per_s"]
        rows.append(("store bulk save_articles (articles/s)", f"{rate:,.0f}", f">= {TARGET_STORE:,.0f}",
                     _met(rate >= TARGET_STORE)))
    if "memory_scaling" in f:
        rows.append(_memory_row(f["memory_scaling"]))
    return rows


def _cpu_rows(run: dict[str, Any], bound: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    """CPU per page of each part of the process tree (where the time goes), and the whole against the budget."""
    pages = max(run["pages"], 1)
    workers, main, postgres = (run[k] / pages * 1000 for k in ("cpu_children_s", "cpu_main_s", "cpu_postgres_s"))
    rows = [("CPU ms/page: extraction workers", f"{workers:.1f}", "", ""),
            ("CPU ms/page: main process (fetch, keep raw, store client)", f"{main:.1f}", "", ""),
            ("CPU ms/page: PostgreSQL backends", f"{postgres:.1f}", "", "")]
    if bound:
        alone = _per(bound) * 1000
        whole = (workers + main + postgres) / alone if alone else 0.0
        rows += [("CPU ms/page: trafilatura alone (extraction bound)", f"{alone:.1f}", "", ""),
                 ("CPU per page, whole path / trafilatura alone", f"{whole:.2f}x", f"<= {TARGET_CPU:g}x",
                  _met(whole <= TARGET_CPU))]
    return rows


def _memory_row(m: dict[str, Any]) -> tuple[str, str, str, str]:
    sizes = list(m["sizes"])
    return (f"peak RSS N={sizes[-1]} / N={sizes[0]}", _ratio(m["ratio"], 1.0), f"<= {TARGET_MEMORY:g}x",
            _met((m["ratio"] or 99) <= TARGET_MEMORY))


def _print_memory_sizes(m: dict[str, Any]) -> None:
    print(f"\n-- memory scaling (each size a fresh pipeline run, H={m['params']['hosts']} hosts)")
    for n, v in m["sizes"].items():
        print(f"N={n}: peak RSS {v['peak_rss_mib']:.0f} MiB (" + ", ".join(
            f"{k} {mib}" for k, mib in v["by_process_mib"].items()) + f"), {v['articles_per_s']:.1f} articles/s")


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    """A plain fixed-width table: figure, value, target, met?"""
    header = ("figure", "value", "target", "met?")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    print("\n" + "  ".join(h.ljust(w) for h, w in zip(header, widths)) + "\n" + line)
    for row in rows:
        print("  ".join(cell.ljust(w) if i != 1 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    if any(r[0].endswith(" *") for r in rows):
        print("* measured on a subset (--naive-n) of the pages and extrapolated (a sequential loop's rate is flat)")


def print_memory(m: dict[str, Any]) -> None:
    """The memory-scaling run: peak RSS per size and the ratio of the largest to the smallest."""
    print(f"\n== memory scaling: pipeline peak RSS of the process tree, H={m['params']['hosts']} hosts, "
          f"latency {m['params']['latency_s'] * 1000:g} ms, each size in a fresh process")
    print(_machine_line(m["machine"]))
    rows = [(f"peak RSS at N={n} (MiB)", f"{v['peak_rss_mib']:.0f}", f"{v['articles']} articles",
             f"{v['articles_per_s']:.1f}/s") for n, v in m["sizes"].items()]
    for n, v in m["sizes"].items():
        print(f"N={n}: peak by process (MiB): " + ", ".join(f"{k} {mib}" for k, mib in v["by_process_mib"].items()))
    rows.append(_memory_row(m))
    print_table(rows)


def _per(rate: dict[str, Any]) -> float:
    return rate["cpu_s"] / max(rate["pages"], 1)


def _div(a: float | None, b: float | None) -> float:
    return (a or 0.0) / b if b else 0.0


def _ratio(a: float | None, b: float | None) -> str:
    return f"{_div(a, b):.2f}x"


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"
