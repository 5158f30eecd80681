#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine, for tests/test_slurm.py: munged, slurmctld and slurmd, started by
# hand (no systemd) with every file under one state folder, so that nothing in /etc is touched and stop.sh can end
# the daemons by the PIDs recorded here.
#
#   bash tests/slurm/start.sh STATE_DIR    # then: export SLURM_CONF=STATE_DIR/conf/slurm.conf; ...; stop.sh STATE_DIR
#
# Needs root: it installs Debian's slurm-wlm and munge (apt-get --no-install-recommends) when they are missing, and
# the daemons run as root. Accounting is off (accounting_storage/none): the workflow's SLURM profile is run with the
# plugin's squeue status command, and jobcomp/filetxt writes one line per finished job to STATE_DIR/jobcomp.log as
# the scheduler's own record of what ran. It exits non-zero, with the daemons' logs, if the node is not idle within
# $SLURM_START_TIMEOUT seconds (default 60).
set -euo pipefail
state=$(realpath -m "${1:?usage: start.sh STATE_DIR}")
timeout=${SLURM_START_TIMEOUT:-60}
here=$(dirname "$(realpath "$0")")

fail() { echo "tests/slurm/start.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (it installs slurm-wlm and munge and runs their daemons)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
    || ! command -v sbatch >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends slurm-wlm munge >"$state.apt.log" 2>&1 \
    || { apt-get update -q >>"$state.apt.log" 2>&1 \
         && apt-get install -y -q --no-install-recommends slurm-wlm munge >>"$state.apt.log" 2>&1; } \
    || fail "apt-get install slurm-wlm munge failed: see $state.apt.log"
fi

# srun inside a job must find the configuration without SLURM_CONF, which the jobstep plugin drops from the job's
# environment: client commands look in /etc/slurm, then /run/slurm/conf, where a configless slurmd links its copy.
# We link ours there (stop.sh removes the link), and refuse to run beside another cluster's configuration.
for other in /etc/slurm/slurm.conf /run/slurm/conf; do
  if [ -e "$other" ] && [ "$(realpath "$other")" != "$state/conf" ]; then
    fail "$other exists: this machine has a SLURM configuration already, and jobs would find it instead of ours"
  fi
done
mkdir -p "$state"/{conf,munge,spool/ctld,spool/d,log} /run/slurm
ln -sfn "$state/conf" /run/slurm/conf
chmod 700 "$state/munge"
# munged refuses a key that others can read; a fresh one per cluster.
[ -f "$state/munge/munge.key" ] || dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$state/munge/munge.key"
socket=$state/munge/munge.socket

# This node as slurmd sees it (CPUs, sockets, cores, memory), under the name SlurmctldHost uses.
node=$(slurmd -C | head -1)
name=$(hostname -s)
cat >"$state/conf/slurm.conf" <<CONF
ClusterName=linguafranca-test
SlurmctldHost=$name(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$state/jobcomp.log
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# squeue reports a finished job for MinJobAge seconds: the plugin's squeue status needs it well above its interval.
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
$node State=UNKNOWN NodeAddr=127.0.0.1
PartitionName=debug Nodes=$name Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$state/conf/slurm.conf

# Started in their own sessions (setsid), so that signals to the caller's process group do not reach them.
setsid munged --force --foreground --key-file="$state/munge/munge.key" --socket="$socket" \
  --pid-file="$state/munge/munged.pid" --seed-file="$state/munge/munged.seed" \
  --log-file="$state/log/munged.log" </dev/null >>"$state/log/munged.out" 2>&1 &
echo $! >"$state/munged.pids"
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { cat "$state/log/munged.log" "$state/log/munged.out" >&2 2>/dev/null || true
                      fail "munged did not start"; }

setsid slurmctld -D -i -f "$SLURM_CONF" </dev/null >>"$state/log/slurmctld.out" 2>&1 &
echo $! >"$state/slurmctld.pids"
setsid slurmd -D -f "$SLURM_CONF" -N "$name" </dev/null >>"$state/log/slurmd.out" 2>&1 &
echo $! >"$state/slurmd.pids"

deadline=$((SECONDS + timeout))
until [ "$(sinfo -h -n "$name" -o %T 2>/dev/null)" = idle ]; do
  if [ $SECONDS -ge $deadline ]; then
    for log in "$state"/log/*; do echo "== $log" >&2; tail -20 "$log" >&2; done
    sinfo -N -l >&2 2>&1 || true
    bash "$here/stop.sh" "$state" || true
    fail "the SLURM node did not become idle within ${timeout}s (logs above, in $state/log)"
  fi
  sleep 0.5
done
echo "tests/slurm/start.sh: SLURM is up: export SLURM_CONF=$SLURM_CONF"
