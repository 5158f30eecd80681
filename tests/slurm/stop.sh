#!/usr/bin/env bash
# Stop the daemons that tests/slurm/start.sh started, by the PIDs it recorded (TERM, then KILL after 10 seconds),
# and remove its link /run/slurm/conf.
set -uo pipefail
state=$(realpath -m "${1:?usage: stop.sh STATE_DIR}")
for daemon in slurmd slurmctld munged; do
  file=$state/$daemon.pids
  [ -f "$file" ] || continue
  pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  rm -f "$file"
done
if [ "$(realpath -m /run/slurm/conf)" = "$state/conf" ]; then
  rm -f /run/slurm/conf
  rmdir /run/slurm 2>/dev/null
fi
exit 0
