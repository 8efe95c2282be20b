#!/usr/bin/env bash
# slurm-local.sh — a private single-node Slurm cluster on 127.0.0.1 (munged + slurmctld + slurmd),
# run as the current user with everything (key, config, state, spool, logs, sockets) in one state
# dir: for tests, and to try job scripts such as bench/slurm/sweep.sbatch before a real cluster.
# Needs Debian's slurmctld slurmd slurm-client munge (Slurm 22.05, munge 0.5.15); no root needed.
#   scripts/slurm-local.sh run DIR CMD [ARG...]  start, run CMD with SLURM_CONF set, stop (also on errors)
#   scripts/slurm-local.sh start DIR             start and leave it running; prints the SLURM_CONF to export
#   scripts/slurm-local.sh stop DIR              cancel its jobs and stop its daemons
#   source scripts/slurm-local.sh                functions slurm_local_check, slurm_local_start DIR
#                                                (exports SLURM_CONF), slurm_local_stop [DIR]
# Environment: SLURM_LOCAL_CPUS (CPUs of the node, default nproc), SLURM_LOCAL_TIMEOUT (seconds to
# wait for the node to come up idle, default 60).
# Ports: SlurmctldPort and SlurmdPort are random free ports in 20000-31999, so several clusters
# (concurrent tests, other users) can share the machine. Nothing is written outside DIR; Slurm
# still reads /etc/passwd and /etc/group, and munged checks /etc/group's mtime.

_sl_err() { echo "slurm-local: $*" >&2; }

# Daemons live in /usr/sbin, which is not in every user's PATH.
_sl_bin() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1"; }

slurm_local_check() {
  local t missing=()
  for t in munged slurmctld slurmd sbatch sinfo squeue scancel scontrol; do
    _sl_bin "$t" >/dev/null || missing+=("$t")
  done
  [ ${#missing[@]} = 0 ] && return 0
  _sl_err "missing ${missing[*]} (Debian: apt-get install slurmctld slurmd slurm-client munge)"
  return 1
}

# A port is taken if /proc/net/tcp{,6} lists it in any state (a stray match just means another try).
_sl_port_free() { ! grep -qs -- "$(printf ':%04X ' "$1")" /proc/net/tcp /proc/net/tcp6; }
_sl_pick_port() { # below Linux's ephemeral range (32768+), so outgoing connections do not take it
  local p _
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 12000))
    if [ "$p" != "${1:-}" ] && _sl_port_free "$p"; then echo "$p"; return 0; fi
  done
  _sl_err "no free TCP port found in 20000-31999"
  return 1
}

_sl_dump_logs() {
  local f
  for f in "$1"/log/*; do
    [ -s "$f" ] || continue
    echo "---- $f (last 30 lines)" >&2
    tail -n 30 "$f" >&2
  done
}

_sl_write_conf() { # DIR NODE CPUS CTLD_PORT SLURMD_PORT
  local dir=$1 user
  user=$(id -un)
  : >"$dir/etc/plugstack.conf" # else Slurm reads /etc/slurm/plugstack.conf
  cat >"$dir/etc/slurm.conf" <<EOF
# written by scripts/slurm-local.sh: a private single-node cluster, everything under $dir
ClusterName=tslocal
SlurmctldHost=$2(127.0.0.1)
SlurmctldPort=$4
SlurmdPort=$5
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/run/munge.sock
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
PlugStackConfig=$dir/etc/plugstack.conf
# no cgroups (none in containers or chroots), no accounting database
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
# the node's CPUs are what this file says, whatever slurmd detects
SlurmdParameters=config_overrides
# keep finished jobs visible to scontrol for 5 minutes (there is no accounting to ask later)
MinJobAge=300
NodeName=$2 NodeAddr=127.0.0.1 NodeHostname=$2 CPUs=$3 State=UNKNOWN
PartitionName=debug Nodes=$2 Default=YES MaxTime=INFINITE State=UP
EOF
}

slurm_local_start() {
  local dir=${1:?usage: slurm_local_start STATE_DIR}
  slurm_local_check || return 1
  if ! mkdir -p "$dir" || ! dir=$(cd "$dir" && pwd); then _sl_err "cannot create $dir"; return 1; fi
  # slurmstepd puts unix sockets in the spool dir: sun_path holds 108 bytes
  [ ${#dir} -le 70 ] || { _sl_err "state dir path too long for unix sockets (${#dir} > 70 chars): $dir"; return 1; }
  local pid
  for pid in $(cat "$dir/run/daemons.pids" 2>/dev/null); do # left by a start that was killed?
    if kill -0 "$pid" 2>/dev/null; then _sl_err "$dir already has a running cluster (stop it first)"; return 1; fi
  done
  mkdir -p "$dir"/{etc,run,log,ctld,spool} || return 1
  chmod 700 "$dir/etc" || return 1 # the munge key
  if [ ! -s "$dir/etc/munge.key" ]; then
    (umask 077 && head -c 1024 /dev/urandom >"$dir/etc/munge.key") || return 1
  fi

  local node cpus conf=$dir/etc/slurm.conf _
  node=$(uname -n) && node=${node%%.*} # the short host name, as slurmctld compares it
  cpus=${SLURM_LOCAL_CPUS:-$(nproc)}
  export SLURM_CONF=$conf

  # Foreground daemons started here (not forking ones) so their pids are known for the stop.
  # --force: munged refuses a socket below a directory not searchable by all (a 0700 home or
  # mktemp -d); only this user talks to this socket, so that check does not apply. --origin:
  # the host name may not resolve (a chroot without /etc/hosts). It logs to stderr with -F.
  "$(_sl_bin munged)" -F --force --origin=127.0.0.1 --socket="$dir/run/munge.sock" \
    --key-file="$dir/etc/munge.key" --pid-file="$dir/run/munged.pid" \
    --seed-file="$dir/etc/munged.seed" </dev/null >"$dir/log/munged.log" 2>&1 &
  echo $! >"$dir/run/daemons.pids"
  for _ in $(seq 50); do [ -S "$dir/run/munge.sock" ] && break; sleep 0.1; done
  if [ ! -S "$dir/run/munge.sock" ]; then
    _sl_err "munged did not start"; _sl_dump_logs "$dir"; slurm_local_stop "$dir"; return 1
  fi
  # A port that was free when picked can be taken before the daemon binds it: new ports, again.
  local try rc
  for try in 1 2 3; do
    _sl_start_slurm "$dir" "$node" "$cpus" && rc=0 || rc=$?
    [ $rc = 0 ] && break
    if [ $rc = 3 ] && [ $try -lt 3 ]; then
      _sl_err "a port was taken, trying other ports"
      _sl_stop_pids "$dir" 2 # slurmd and slurmctld; munged stays
      continue
    fi
    _sl_dump_logs "$dir"; slurm_local_stop "$dir"; return 1
  done
  SLURM_LOCAL_DIR=$dir
}

# slurmctld and slurmd on fresh ports; wait for the node to be idle. 3: a port was in use.
_sl_start_slurm() {
  local dir=$1 node=$2 conf=$1/etc/slurm.conf ctld_port slurmd_port
  ctld_port=$(_sl_pick_port) && slurmd_port=$(_sl_pick_port "$ctld_port") || return 1
  _sl_write_conf "$dir" "$node" "$3" "$ctld_port" "$slurmd_port"
  rm -f "$dir"/log/slurm*
  # -c: a state dir used before holds the jobs of a stopped cluster; start clean. In the
  # foreground they log to stderr (.err) too, which alone has errors from before the log opens.
  "$(_sl_bin slurmctld)" -D -c -f "$conf" </dev/null >"$dir/log/slurmctld.err" 2>&1 &
  echo $! >>"$dir/run/daemons.pids"
  "$(_sl_bin slurmd)" -D -N "$node" -f "$conf" </dev/null >"$dir/log/slurmd.err" 2>&1 &
  echo $! >>"$dir/run/daemons.pids"

  local state deadline=$((SECONDS + ${SLURM_LOCAL_TIMEOUT:-60})) pid
  while :; do
    if grep -qs "Address already in use" "$dir"/log/slurm*.err; then return 3; fi
    for pid in $(cat "$dir/run/daemons.pids"); do
      if ! kill -0 "$pid" 2>/dev/null; then _sl_err "a daemon exited during start-up (pid $pid)"; return 1; fi
    done
    state=$(sinfo -h -N -n "$node" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && return 0
    if [ $SECONDS -ge "$deadline" ]; then
      _sl_err "node $node not idle after ${SLURM_LOCAL_TIMEOUT:-60}s (state: '${state:-no answer}')"
      return 1
    fi
    sleep 0.2
  done
}

# TERM the last N pids of daemons.pids (all without N), newest first; KILL after 10 s.
_sl_stop_pids() {
  local dir=$1 pids pid _
  pids=$(tac "$dir/run/daemons.pids")
  [ -n "${2:-}" ] && pids=$(head -n "$2" <<<"$pids")
  for pid in $pids; do
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -n "${2:-}" ]; then
    head -n "-$2" "$dir/run/daemons.pids" >"$dir/run/daemons.pids.new"
    mv "$dir/run/daemons.pids.new" "$dir/run/daemons.pids"
  else
    rm -f "$dir/run/daemons.pids"
  fi
}

# Cancel what still runs, then stop slurmd, slurmctld and munged (TERM, then KILL after 10 s).
slurm_local_stop() {
  local dir=${1:-${SLURM_LOCAL_DIR:-}} _
  [ -n "$dir" ] && [ -s "$dir/run/daemons.pids" ] || return 0
  local conf=$dir/etc/slurm.conf
  if [ -n "$(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null)" ]; then
    SLURM_CONF=$conf scancel --quiet --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  _sl_stop_pids "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cmd=${1:-}
  dir=${2:-}
  if [ -z "$dir" ] || { [ "$cmd" = run ] && [ $# -lt 3 ]; }; then
    echo "usage: $0 run DIR CMD [ARG...] | start DIR | stop DIR" >&2
    exit 2
  fi
  case $cmd in
    run)
      shift 2
      trap 'slurm_local_stop "$dir"' EXIT
      trap 'exit 130' INT TERM
      slurm_local_start "$dir"
      "$@"
      ;;
    start)
      slurm_local_start "$dir"
      echo "export SLURM_CONF=$SLURM_CONF"
      ;;
    stop) slurm_local_stop "$dir" ;;
    *)
      echo "usage: $0 run DIR CMD [ARG...] | start DIR | stop DIR" >&2
      exit 2
      ;;
  esac
fi
