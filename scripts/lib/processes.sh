# shellcheck shell=bash
# Start long-running processes and stop them all cleanly on Ctrl-C, TERM or exit (sourced by scripts/up and
# the like). Each process leads its own session, so stopping it also stops whatever it spawned (Airflow's
# task runners, Celery's pool workers, gunicorn's workers...).
#
#   source scripts/lib/processes.sh
#   LOG_DIR=/path/to/logs              # NAME.log of each process goes here
#   on_stop() { rm -f some-file; }     # optional: runs first when stopping
#   install_clean_stop                 # Ctrl-C/TERM: stop everything, exit 0; normal exit: stop everything
#   start_managed scheduler airflow scheduler
#   wait_managed                       # until the last started process exits
#
# Stopping: TERM to every session, then KILL to whatever is left after STOP_GRACE seconds (default 30);
# then the embedded PostgreSQL, when `python -m pipeline.localdev env` started it in this shell
# (NEWS_PIPELINE_EMBEDDED_STARTED=1) and KEEP_DATABASE_RUNNING is unset. Says "stopping..."/"stopped."
# on stderr, never prints a traceback, and runs once however many signals arrive.

managed_pids=()
_clean_stop_started=""

start_managed() {  # start_managed NAME COMMAND...: in its own session, output to $LOG_DIR/NAME.log
  local name="$1"; shift
  setsid "$@" > "${LOG_DIR:?set LOG_DIR before start_managed}/$name.log" 2>&1 < /dev/null &
  managed_pids+=($!)
}

last_managed_pid() {
  echo "${managed_pids[-1]}"
}

wait_managed() {  # wait for the last process started; its exit status is not an error of the caller
  wait "${managed_pids[-1]}" || true
}

managed_members() {  # pids of every process still in the sessions started here
  [ ${#managed_pids[@]} -gt 0 ] || return 0
  ps -e -o pid=,sid= | awk -v sids=" ${managed_pids[*]} " 'index(sids, " " $2 " ") { print $1 }'
}

stop_managed() {  # TERM every session; KILL what is left after STOP_GRACE seconds
  [ ${#managed_pids[@]} -gt 0 ] || return 0
  local pid left="" ticks=$(( ${STOP_GRACE:-30} * 10 ))
  for pid in "${managed_pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq "$ticks"); do left="$(managed_members)"; [ -n "$left" ] || break; sleep 0.1; done
  if [ -n "$left" ]; then
    echo "killing what did not stop within ${STOP_GRACE:-30} s: $(echo $left)" >&2
    # shellcheck disable=SC2086 - one pid per word
    kill -KILL $left 2>/dev/null || true
  fi
}

stop_embedded_if_started() {  # the embedded PostgreSQL, when this shell started it
  if [ "${NEWS_PIPELINE_EMBEDDED_STARTED:-0}" = 1 ] && [ -z "${KEEP_DATABASE_RUNNING:-}" ]; then
    python -m pipeline.localdev stop || true
  fi
}

clean_stop() {  # everything above, once
  [ -z "$_clean_stop_started" ] || return 0
  _clean_stop_started=1
  trap '' INT TERM  # a second Ctrl-C must not cut the stop short
  echo >&2; echo "stopping..." >&2
  if declare -F on_stop > /dev/null; then on_stop || true; fi
  stop_managed
  stop_embedded_if_started
  echo "stopped." >&2
}

install_clean_stop() {  # Ctrl-C or TERM: stop everything and exit 0 (a requested stop is no failure)
  trap 'clean_stop; exit 0' INT TERM
  trap clean_stop EXIT
}
