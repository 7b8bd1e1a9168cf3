#!/usr/bin/env bash
# slurm-local.sh up|down|status — a single-node Slurm cluster on this machine for the launcher's tests
# (Debian 12: slurm-wlm 22.05 + munge, no systemd needed; run as root). Adapted from the team's shared
# slurm-up.sh / slurm-down.sh; the comments say why each setting is there.
#
#   up      install the packages if missing, write /etc/slurm/slurm.conf, start munged, slurmctld and slurmd,
#           wait until the node is idle. Idempotent: daemons it started that are still up are kept.
#   down    cancel what is queued, stop the daemons it started (by their recorded pids). Packages and logs stay.
#   status  exit 0 when the node answers and is usable.
#
# Environment: SLURM_LOCAL_BASE (state, logs, pids; default /tmp/slurm-local), SLURM_LOCAL_GPUS (fake GPUs for
# --gres tests, default 2), SLURM_LOCAL_TIMEOUT (seconds to wait for an idle node, default 60).
set -euo pipefail

BASE=${SLURM_LOCAL_BASE:-/tmp/slurm-local}
GPUS=${SLURM_LOCAL_GPUS:-2}
TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}
CONF=/etc/slurm/slurm.conf
GRES_CONF=/etc/slurm/gres.conf
PIDS=$BASE/pids
LOGS=$BASE/log

die() { echo "slurm-local: FAILED: $*" >&2; exit 1; }
alive() { # alive PIDFILE COMM: the pid recorded in PIDFILE runs COMM
  local p
  [ -s "$1" ] || return 1
  p=$(cat "$1")
  [ -n "$p" ] && [ -r "/proc/$p/comm" ] && [ "$(cat "/proc/$p/comm")" = "$2" ]
}
stop_ours() { # stop_ours NAME
  local f=$PIDS/$1.pid p
  if alive "$f" "$1"; then
    p=$(cat "$f"); kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 100); do [ -d "/proc/$p" ] || break; sleep 0.1; done
    [ -d "/proc/$p" ] && kill -KILL "$p" 2>/dev/null || true
    echo -n " $1($p)"
  fi
  rm -f "$f"
}
node_state() { sinfo -h -N -n "$(hostname -s)" -o %T 2>/dev/null | head -1 || true; }

up() {
  [ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts daemons)"
  mkdir -p "$BASE" "$PIDS" "$LOGS" "$BASE/run" "$BASE/spool/ctld" "$BASE/spool/d"

  # --- packages (~8 s)
  local b missing=0
  for b in slurmctld slurmd sbatch munged mungekey; do command -v "$b" >/dev/null 2>&1 || missing=1; done
  if [ "$missing" = 1 ]; then
    command -v apt-get >/dev/null || die "slurm-wlm is not installed and there is no apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -q >"$LOGS/apt.log" 2>&1 || die "apt-get update (see $LOGS/apt.log)"
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends slurm-wlm munge >>"$LOGS/apt.log" 2>&1 \
      || die "apt-get install slurm-wlm munge (see $LOGS/apt.log)"
  fi

  # --- munge: munged runs as the munge user and needs /run/munge owned by it
  install -d -o munge -g munge -m 0700 /etc/munge /var/log/munge
  install -d -o munge -g munge -m 0711 /var/lib/munge
  install -d -o munge -g munge -m 0755 /run/munge
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
  if ! munge_ok; then
    rm -f "$PIDS/munged.pid"
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid || die "munged did not start (see /var/log/munge/munged.log)"
    for _ in $(seq 50); do munge_ok && break; sleep 0.1; done
    munge_ok || die "munge credential round trip fails (see /var/log/munge/munged.log)"
    cp /run/munge/munged.pid "$PIDS/munged.pid" # recorded only when started here
  fi

  # --- config: the node line from slurmd -C; memory less a margin
  local H HW CPUS TOPO k v MEMTOTAL MARGIN MEM GRES_NODE="" GRES_TYPES="" NEW_GRES="" i
  H=$(hostname -s)
  HW=$(slurmd -C 2>/dev/null | head -1)
  field() { echo "$HW" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  CPUS=$(field CPUs); CPUS=${CPUS:-$(nproc)}
  TOPO=""
  for k in Boards SocketsPerBoard CoresPerSocket ThreadsPerCore; do v=$(field $k); [ -n "$v" ] && TOPO="$TOPO $k=$v"; done
  MEMTOTAL=$(awk '/^MemTotal:/{print int($2/1024)}' /proc/meminfo)
  MARGIN=$(( MEMTOTAL / 20 > 512 ? MEMTOTAL / 20 : 512 ))
  MEM=$(( MEMTOTAL - MARGIN ))
  if [ "$GPUS" -gt 0 ]; then
    # fake GPUs: gres/gpu wants one character device per GPU (index = trailing number): /dev/null clones
    install -d "$BASE/fakegpu"
    for i in $(seq 0 $(( GPUS - 1 ))); do
      [ -c "$BASE/fakegpu/nvidia$i" ] || mknod "$BASE/fakegpu/nvidia$i" c 1 3 || { GPUS=0; break; }
    done
  fi
  if [ "$GPUS" -gt 0 ]; then
    GRES_NODE=" Gres=gpu:$GPUS"; GRES_TYPES="GresTypes=gpu"
    NEW_GRES="NodeName=$H Name=gpu File=$BASE/fakegpu/nvidia[0-$(( GPUS - 1 ))]"
  fi
  local NEW_CONF
  NEW_CONF=$(cat <<CONF
# written by tudui scripts/slurm-local.sh - single node, no cgroups, no slurmdbd
ClusterName=local
SlurmctldHost=$H
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# a requeued job waits cred_expire+1 s before it may start again (default 120)
AuthInfo=cred_expire=10
MpiDefault=none
SwitchType=switch/none
# no cgroups in containers / gVisor
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
# no slurmdbd: sacct says "accounting storage is disabled" (tudui falls back to squeue / scontrol)
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGS/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# submit-to-start ~0.5 s instead of ~3 s
SchedulerParameters=batch_sched_delay=0,sched_interval=5,bf_interval=2
ReturnToService=2
KillWait=5
# finished jobs stay visible to squeue / scontrol for an hour
MinJobAge=3600
MailProg=/bin/true
$GRES_TYPES
StateSaveLocation=$BASE/spool/ctld
SlurmdSpoolDir=$BASE/spool/d
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$H CPUs=$CPUS$TOPO RealMemory=$MEM$GRES_NODE State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=long Nodes=ALL Default=NO MaxTime=INFINITE State=UP
CONF
)
  local changed=0
  mkdir -p /etc/slurm
  # the same settings written by another copy of this setup (comment line aside) are not a change
  if [ "$(grep -v '^# written by' "$CONF" 2>/dev/null)" != "$(printf '%s\n' "$NEW_CONF" | grep -v '^# written by')" ]; then
    printf '%s\n' "$NEW_CONF" >"$CONF"; changed=1
  fi
  if [ -n "$NEW_GRES" ]; then
    [ "$(cat "$GRES_CONF" 2>/dev/null)" = "$NEW_GRES" ] || { printf '%s\n' "$NEW_GRES" >"$GRES_CONF"; changed=1; }
  elif [ -e "$GRES_CONF" ]; then
    rm -f "$GRES_CONF"; changed=1
  fi

  # --- daemons (as root, by hand: no systemd)
  if [ "$changed" = 1 ]; then stop_ours slurmd >/dev/null; stop_ours slurmctld >/dev/null; fi
  if ! alive "$PIDS/slurmctld.pid" slurmctld; then
    rm -rf "${BASE:?}/spool/ctld" "${BASE:?}/spool/d"; mkdir -p "$BASE/spool/ctld" "$BASE/spool/d"
    rm -f "$BASE/run/slurmctld.pid"
    slurmctld || die "slurmctld did not start (see $LOGS/slurmctld.log)"
    for _ in $(seq 100); do [ -s "$BASE/run/slurmctld.pid" ] && break; sleep 0.05; done
    cp "$BASE/run/slurmctld.pid" "$PIDS/slurmctld.pid" 2>/dev/null || true
    alive "$PIDS/slurmctld.pid" slurmctld || { tail -5 "$LOGS/slurmctld.log" >&2; die "slurmctld exited"; }
  fi
  if ! alive "$PIDS/slurmd.pid" slurmd; then
    rm -f "$BASE/run/slurmd.pid"
    slurmd || die "slurmd did not start (see $LOGS/slurmd.log)"
    for _ in $(seq 100); do [ -s "$BASE/run/slurmd.pid" ] && break; sleep 0.05; done
    cp "$BASE/run/slurmd.pid" "$PIDS/slurmd.pid" 2>/dev/null || true
    alive "$PIDS/slurmd.pid" slurmd || { tail -5 "$LOGS/slurmd.log" >&2; die "slurmd exited"; }
  fi

  # --- wait for an idle node (a node that comes up drained is resumed once)
  local deadline=$(( $(date +%s) + TIMEOUT )) resumed=0 st=""
  while :; do
    st=$(node_state)
    case "$st" in
      idle|mixed|allocated) break ;;
      *drain*|*down*|inval*|*fail*)
        if [ "$resumed" = 0 ]; then sleep 1; scontrol update NodeName="$H" State=RESUME >/dev/null 2>&1 || true; resumed=1; fi ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -5 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" >&2 || true
      die "node $H not idle after ${TIMEOUT}s (state: ${st:-none})"
    fi
    sleep 0.2
  done
  echo "slurm-local: up: node $H $st, cpus=$CPUS mem=${MEM}M gpus=$GPUS, partitions debug (default) and long, logs in $LOGS"
}

down() {
  if alive "$PIDS/slurmctld.pid" slurmctld; then
    local ids
    ids=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${ids// /}" ]; then
      # shellcheck disable=SC2086
      scancel $ids 2>/dev/null || true
      for _ in $(seq 75); do [ -z "$(squeue -h -t PD,R,CG,S,CF 2>/dev/null)" ] && break; sleep 0.2; done
    fi
  fi
  local stopped
  stopped=$( stop_ours slurmd; stop_ours slurmctld; stop_ours munged )
  echo "slurm-local: down: stopped${stopped:- nothing (none of ours running)}"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) case "$(node_state)" in idle|mixed|allocated) echo "slurm-local: node $(node_state)" ;; *) echo "slurm-local: no usable node"; exit 1 ;; esac ;;
  *) echo "usage: scripts/slurm-local.sh up|down|status" >&2; exit 2 ;;
esac
