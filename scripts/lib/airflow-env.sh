# shellcheck shell=bash
# load_env_defaults FILE: export each KEY=VALUE line of FILE (docker/airflow.env) unless KEY is already set.
load_env_defaults() {
  local line key
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    key="${line%%=*}"
    [ -n "${!key+x}" ] || export "$key=${line#*=}"
  done < "$1"
}
