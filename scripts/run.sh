#!/usr/bin/env bash
# Start shoald in the background and wait until it answers /_ping.
# Usage: scripts/run.sh BIN SOCKET DATA_ROOT EXEC_ROOT LOG PIDFILE
set -euo pipefail

bin=$1 sock=$2 data_root=$3 exec_root=$4 log=$5 pidfile=$6
deadline_s=${SHOALD_START_TIMEOUT:-60}

if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	echo "shoald is already running (pid $(cat "$pidfile")); run 'make stop' first." >&2
	exit 1
fi
if curl -fsS --max-time 2 --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1; then
	echo "a daemon already answers on $sock (not started by make run); stop it first." >&2
	exit 1
fi

mkdir -p "$(dirname "$sock")" "$data_root" "$exec_root" "$(dirname "$log")" "$(dirname "$pidfile")"
echo "=== make run: $(date -Is)" >>"$log"
nohup "$bin" -H "unix://$sock" --data-root "$data_root" --exec-root "$exec_root" </dev/null >>"$log" 2>&1 &
pid=$!
echo "$pid" >"$pidfile"

for ((i = 0; i < deadline_s * 10; i++)); do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "shoald exited during startup; last lines of $log:" >&2
		tail -n 50 "$log" >&2
		rm -f "$pidfile"
		exit 1
	fi
	if curl -fsS --max-time 2 --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1; then
		echo "shoald is running (pid $pid, log $log). Use it with:"
		echo "export DOCKER_HOST=unix://$sock"
		exit 0
	fi
	sleep 0.1
done

echo "shoald did not answer /_ping within ${deadline_s}s; last lines of $log:" >&2
tail -n 50 "$log" >&2
kill -TERM "$pid" 2>/dev/null || true
rm -f "$pidfile"
exit 1
