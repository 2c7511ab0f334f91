#!/usr/bin/env bash
# Stop the shoald that scripts/run.sh started: SIGTERM, then SIGKILL after
# a deadline. Usage: scripts/stop.sh PIDFILE
set -euo pipefail

pidfile=$1
deadline_s=${SHOALD_STOP_TIMEOUT:-30}

if [ ! -f "$pidfile" ]; then
	echo "shoald is not running (no $pidfile)."
	exit 0
fi
pid=$(cat "$pidfile")
if ! kill -0 "$pid" 2>/dev/null; then
	echo "shoald (pid $pid) is not running; removing stale $pidfile."
	rm -f "$pidfile"
	exit 0
fi

kill -TERM "$pid"
for ((i = 0; i < deadline_s * 10; i++)); do
	if ! kill -0 "$pid" 2>/dev/null; then
		rm -f "$pidfile"
		echo "shoald (pid $pid) stopped."
		exit 0
	fi
	sleep 0.1
done
echo "shoald (pid $pid) did not stop within ${deadline_s}s of SIGTERM; sending SIGKILL." >&2
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pidfile"
