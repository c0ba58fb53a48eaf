# The two quick-start commands: `make up` (the main job) and `make test` (the whole test suite).
.PHONY: up up-celery airflow test test-fast ingest-demo bootstrap lint eval bench bench-queries train newcomer-check

up:            ## Airflow with the news DAGs unpaused, embedded PostgreSQL, offline demo site; Ctrl-C stops it all
	scripts/up

up-celery:     ## `make up` on CeleryExecutor: 2 local `airflow celery worker`s (NEWS_PIPELINE_CELERY_WORKERS), Redis broker
	scripts/up-celery

airflow:       ## the Airflow CLI against the running `make up`, from a second shell: make airflow ARGS="dags list"
	@scripts/airflow $(ARGS)

test:          ## install, lint, validate docker-compose.yml, run every test
	scripts/test

ingest-demo:   ## one CLI run: ingest the offline demo site into the embedded PostgreSQL
	scripts/ingest-demo

bootstrap:     ## create .venv (PYTHON=/path/to/python3.x to choose the interpreter)
	@scripts/bootstrap

lint: bootstrap
	.venv/bin/ruff check pipeline dags tests bench

eval: bootstrap ## score news-pipeline and its peers on every dev set in ../shared/datasets (ARGS="--sets dates-dev --limit 50")
	.venv/bin/news-pipeline eval $(ARGS)

train: bootstrap ## rebuild the block classifier (pipeline/extract/block_model.npz) from ../shared/datasets; prints in-sample, grouped-CV and leave-one-set-out F1
	.venv/bin/python -m pipeline.extract.train --cv

N ?= 2000
MEMORY ?= 1
DATASET ?= ../shared/datasets/article-extraction-dev
bench: bootstrap ## throughput benchmark, every target met or not (see README, Benchmarks): make bench N=10000 MEMORY=0
	.venv/bin/python bench/ingest.py --dataset $(DATASET) --n $(N) $(if $(filter 0,$(MEMORY)),,--with-memory) $(if $(JSON),--json $(JSON))

.PHONY: bench-deadlines
bench-deadlines: bootstrap ## worst-case time of one URL against hostile servers (about 2 minutes; README, Reliability)
	.venv/bin/python bench/worst_case_url.py

QUERIES_DB ?= postgresql://postgres@127.0.0.1:5432/news_pipeline_year
QUERIES_ARTICLES ?= 1000000
bench-queries: bootstrap ## downstream queries at a year's scale: generate a year once (~20-30 min), time every documented query
	.venv/bin/python bench/scale_year.py --db $(QUERIES_DB) --articles $(QUERIES_ARTICLES) --create --if-missing
	.venv/bin/python bench/queries.py --db $(QUERIES_DB)

test-fast: bootstrap ## pure and unit tests: no database, no Airflow, no worker processes (well under a minute)
	.venv/bin/python -m pytest -q -m "not db and not airflow and not slow"

newcomer-check: ## a fresh clone through make up, a backfill, psql, Ctrl-C; as root also as a throwaway user
	scripts/newcomer-check
