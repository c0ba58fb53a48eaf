"""Runs: ingest and reprocess assembled from the stages, with their summary and checks."""
