# The two quick-start commands: `make up` (the main job) and `make test` (the whole test suite).
.PHONY: up test test-fast ingest-demo bootstrap lint eval bench

up:            ## Airflow (standalone) with the news DAGs unpaused, embedded PostgreSQL, offline demo site
	scripts/up

test:          ## install, lint, validate docker-compose.yml, run every test
	scripts/test

ingest-demo:   ## one CLI run: ingest the offline demo site into the embedded PostgreSQL
	scripts/ingest-demo

bootstrap:
	scripts/bootstrap

lint: bootstrap
	.venv/bin/ruff check pipeline dags tests bench

eval: bootstrap ## score extraction on ../shared/datasets/article-extraction-dev
	.venv/bin/news-pipeline eval --pages ../shared/datasets/article-extraction-dev/html --truth ../shared/datasets/article-extraction-dev/ground-truth.json

bench: bootstrap ## throughput benchmark (see README, Benchmarks)
	.venv/bin/python bench/ingest.py --dataset ../shared/datasets/article-extraction-dev

test-fast: bootstrap ## pure and unit tests: no database, no Airflow, no worker processes (well under a minute)
	.venv/bin/python -m pytest -q -m "not db and not airflow and not slow"
