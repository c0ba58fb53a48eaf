# The two quick-start commands: `make up` (the main job) and `make test` (the whole test suite).
.PHONY: up airflow test test-fast ingest-demo bootstrap lint eval bench train newcomer-check

up:            ## Airflow with the news DAGs unpaused, embedded PostgreSQL, offline demo site; Ctrl-C stops it all
	scripts/up

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

eval: bootstrap ## score extraction on ../shared/datasets/article-extraction-dev
	.venv/bin/news-pipeline eval --pages ../shared/datasets/article-extraction-dev/html --truth ../shared/datasets/article-extraction-dev/ground-truth.json

train: bootstrap ## rebuild the block classifier (pipeline/extract/block_model.npz) from ../shared/datasets; prints in-sample, grouped-CV and leave-one-set-out F1
	.venv/bin/python -m pipeline.extract.train --cv

bench: bootstrap ## throughput benchmark (see README, Benchmarks)
	.venv/bin/python bench/ingest.py --dataset ../shared/datasets/article-extraction-dev

test-fast: bootstrap ## pure and unit tests: no database, no Airflow, no worker processes (well under a minute)
	.venv/bin/python -m pytest -q -m "not db and not airflow and not slow"

newcomer-check: ## a fresh clone through make up, a backfill, psql, Ctrl-C; as root also as a throwaway user
	scripts/newcomer-check
