#!/bin/bash
# Create the articles database and its owner next to Airflow's metadata database (first start only).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<-SQL
  CREATE ROLE news LOGIN PASSWORD '${NEWS_DB_PASSWORD}';
  CREATE DATABASE news OWNER news;
SQL
