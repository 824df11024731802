#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying `frugalbench plan` /
# `collect` and for CI. Needs root and Debian (or Ubuntu); no systemd needed.
#
#   scripts/slurm-test-cluster.sh up        install slurm-wlm if missing, start munged,
#                                           slurmctld and slurmd, wait for the node
#   scripts/slurm-test-cluster.sh selftest  up (if needed), run a small plan through
#                                           sbatch, collect it, check every job, build a
#                                           leaderboard, then down (if it brought it up)
#   scripts/slurm-test-cluster.sh down      stop the daemons this script started
#   scripts/slurm-test-cluster.sh status    show the daemons and the node
#
# What `up` does, step by step (the how-to for a test cluster):
#   1. apt-get install slurm-wlm (it brings munge).
#   2. A munge key (/etc/munge/munge.key, mode 0400, owner munge) if there is none;
#      munged runs as user munge with /run/munge owned by munge.
#   3. A slurm.conf for one node: this host (`hostname -s`) at 127.0.0.1 with `nproc`
#      CPUs and the memory `free -m` reports; proctrack/linuxproc and task/none (no
#      cgroups needed), select/cons_tres, no accounting, state and spool folders under
#      $FRUGALBENCH_SLURM_DIR (default /tmp/frugalbench-slurm). Commands find it
#      through SLURM_CONF; to use the cluster from your shell:
#        export SLURM_CONF=/tmp/frugalbench-slurm/slurm.conf
#   4. `slurmctld -c` (fresh state) and `slurmd`; the node turns `idle` in about a second.
#
# Environment: FRUGALBENCH_BIN (the binary to test; default $CARGO_TARGET_DIR/release/frugalbench,
# else target/release/frugalbench,
# built if missing), FRUGALBENCH_SLURM_DIR (state folder), SLURM_TEST_TIMEOUT (seconds
# selftest waits for the array; default 900).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${FRUGALBENCH_SLURM_DIR:-/tmp/frugalbench-slurm}
export SLURM_CONF="$state/slurm.conf"
host=$(hostname -s)
installed_now=0

step() { printf '\n==> [%4ss] %s\n' "$SECONDS" "$*"; }
die() { printf 'slurm-test-cluster: %s\n' "$*" >&2; exit 1; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { [ -f "$1" ] && tr -dc '0-9' <"$1" || true; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "run me as root (I install packages and start daemons)"
}

install_slurm() {
  step "slurm-wlm and munge"
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    echo "already installed: $(slurmctld -V)"
    return
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurm-wlm >/dev/null
  installed_now=1
  echo "installed: $(slurmctld -V)"
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  step "munged"
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  if [ ! -s /etc/munge/munge.key ]; then
    echo "creating /etc/munge/munge.key"
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  if munge_works; then
    if [ "$installed_now" -eq 1 ] && pid_alive "$(pid_of /run/munge/munged.pid)"; then
      # Started by the package we just installed: ours to stop.
      pid_of /run/munge/munged.pid >"$state/munged.pid"
      echo "munged started by the package (pid $(pid_of "$state/munged.pid"))"
    elif pid_alive "$(pid_of "$state/munged.pid")"; then
      echo "munged already running (pid $(pid_of "$state/munged.pid")), started by this script"
    else
      echo "munged already answers; using it (this script will not stop it)"
    fi
    return
  fi
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do
    munge_works && break
    sleep 0.1
  done
  munge_works || die "munged does not answer (see /var/log/munge/munged.log)"
  local pid
  pid=$(pid_of /run/munge/munged.pid)
  [ -n "$pid" ] || pid=$(pgrep -u munge -x munged | head -n1)
  echo "$pid" >"$state/munged.pid"
  echo "munged pid $pid"
}

write_conf() {
  step "slurm.conf for $host"
  local cpus mem
  cpus=$(nproc)
  mem=$(free -m | awk '/^Mem:/ {print $2}')
  mkdir -p "$state/state" "$state/spool"
  cat >"$SLURM_CONF" <<EOF
# One-node test cluster written by scripts/slurm-test-cluster.sh.
ClusterName=frugalbench-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$state/state
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  cat "$SLURM_CONF"
}

node_state() { sinfo -h -N -n "$host" -o '%T' 2>/dev/null | head -n1; }

cluster_up() {
  pid_alive "$(pid_of "$state/slurmctld.pid")" && pid_alive "$(pid_of "$state/slurmd.pid")"
}

up() {
  need_root
  mkdir -p "$state"
  if cluster_up && [ "$(node_state)" = idle ]; then
    step "cluster already up"
    sinfo
    return
  fi
  # Half-started leftovers from an earlier run: stop them first.
  stop_slurm
  install_slurm
  start_munge
  write_conf
  step "slurmctld -c and slurmd"
  slurmctld -c
  slurmd
  local s=""
  for _ in $(seq 300); do
    s=$(node_state)
    [ "$s" = idle ] && break
    sleep 0.1
  done
  if [ "$s" != idle ]; then
    tail -n 20 "$state/slurmctld.log" "$state/slurmd.log" >&2 || true
    die "node $host is '${s:-unknown}', not idle, after 30 s"
  fi
  echo "slurmctld pid $(pid_of "$state/slurmctld.pid"), slurmd pid $(pid_of "$state/slurmd.pid")"
  sinfo
  echo "use it from your shell: export SLURM_CONF=$SLURM_CONF"
}

# Stops slurmctld and slurmd (`scontrol shutdown`, then their pids if needed).
stop_slurm() {
  local ctld slurmd_pid
  ctld=$(pid_of "$state/slurmctld.pid")
  slurmd_pid=$(pid_of "$state/slurmd.pid")
  if pid_alive "$ctld"; then
    scontrol shutdown >/dev/null 2>&1 || true
  fi
  for pid in $ctld $slurmd_pid; do
    for _ in $(seq 100); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      echo "pid $pid still running after scontrol shutdown; sending TERM"
      kill "$pid" 2>/dev/null || true
      sleep 1
      pid_alive "$pid" && kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$state/slurmctld.pid" "$state/slurmd.pid"
}

down() {
  need_root
  step "stopping the cluster"
  stop_slurm
  local m
  m=$(pid_of "$state/munged.pid")
  if pid_alive "$m"; then
    kill "$m"
    for _ in $(seq 50); do
      pid_alive "$m" || break
      sleep 0.1
    done
    echo "munged (pid $m) stopped"
  fi
  rm -f "$state/munged.pid"
  echo "stopped; logs kept in $state"
}

status() {
  echo "state folder: $state"
  for d in slurmctld slurmd munged; do
    local pid
    pid=$(pid_of "$state/$d.pid")
    if pid_alive "$pid"; then echo "$d: running (pid $pid)"; else echo "$d: not running"; fi
  done
  cluster_up && sinfo || true
}

leaderboard() {
  # A build whose `leaderboard` is still a stub says "not implemented yet": skipped.
  # Otherwise it must succeed and rank every collected result.
  local bin=$1 collected=$2 site=$3 out rc=0
  step "frugalbench leaderboard from the collected results"
  out=$("$bin" leaderboard "$collected" --out "$site" 2>&1) || rc=$?
  printf '%s\n' "$out"
  if [ "$rc" -ne 0 ] && grep -q 'not implemented yet' <<<"$out"; then
    echo "leaderboard: not implemented yet in this build (exit $rc); skipped"
    return 0
  fi
  [ "$rc" -eq 0 ] || die "frugalbench leaderboard failed (exit $rc)"
  if grep -Eq '(^|[^0-9])[1-9][0-9]* rejected' <<<"$out"; then
    die "frugalbench leaderboard rejected some of the collected results"
  fi
  [ -n "$(find "$site" -type f | head -n1)" ] || die "frugalbench leaderboard wrote nothing in $site"
  echo "leaderboard: exit 0, $(find "$site" -type f | wc -l) file(s) in $site"
}

selftest() {
  need_root
  local t0=$SECONDS bin work plan started=0
  bin=${FRUGALBENCH_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/frugalbench}
  if [ ! -x "$bin" ]; then
    step "cargo build --release -p frugalbench"
    (cd "$repo" && cargo build --release -p frugalbench)
  fi
  bin=$(readlink -f "$bin")
  if ! (cluster_up && [ "$(node_state)" = idle ]); then
    started=1
    # Whatever happens next, leave nothing running.
    trap 'down' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
  fi
  up

  step "model cache: all-minilm-l6-v2 (the jobs run --offline)"
  work=$(mktemp -d /tmp/frugalbench-slurm-selftest.XXXXXX)
  printf '%s\n' '{"sentence1": "a cat", "sentence2": "a kitten", "score": 4.0}' \
    '{"sentence1": "a cat", "sentence2": "the stock market", "score": 0.0}' >"$work/warm-up.jsonl"
  local warm=(run --model all-minilm-l6-v2 --task sentence-similarity --dataset "$work/warm-up.jsonl"
    --queries 1 --repetitions 1 --warmup 0 --idle-seconds 0 --out "$work/warm-up")
  if "$bin" "${warm[@]}" --offline >"$work/warm-up.log" 2>&1; then
    echo "in the cache"
  else
    echo "not in the cache: fetching it"
    "$bin" "${warm[@]}" >"$work/warm-up.log" 2>&1 || {
      cat "$work/warm-up.log"
      die "cannot get all-minilm-l6-v2"
    }
  fi

  step "a small plan: MiniLM on two tasks, plus one model broken on purpose"
  plan=$work/plan
  mkdir -p "$work/broken-model"
  echo 'this is not a model config' >"$work/broken-model/config.json"
  {
    cat "$repo/models.toml"
    cat <<'EOF'

[[model]]
id = "broken-on-purpose"
tasks = ["sentence-similarity"]
arch = "bert"
path = "broken-model"
EOF
  } >"$work/models.toml"
  "$bin" plan --catalogue "$work/models.toml" \
    --models all-minilm-l6-v2,broken-on-purpose \
    --tasks sentence-similarity,text-classification \
    --queries 5 --repetitions 1 --warmup 1 \
    --extra-run-args "--idle-seconds 0 --offline" \
    --slurm --max-parallel 2 --time 00:10:00 --out "$plan"
  cat "$plan/job.sbatch"

  step "sbatch"
  local job_id
  job_id=$(sbatch --parsable "$plan/job.sbatch")
  job_id=${job_id%%;*}
  echo "submitted array job $job_id"

  step "waiting for the array (squeue)"
  local limit=${SLURM_TEST_TIMEOUT:-900} t_submit=$SECONDS
  while [ -n "$(squeue -h -j "$job_id" 2>/dev/null)" ]; do
    if [ $((SECONDS - t_submit)) -gt "$limit" ]; then
      squeue
      scancel "$job_id" || true
      die "array job $job_id still queued or running after $limit s"
    fi
    sleep 0.5
  done
  echo "array job $job_id finished after $((SECONDS - t_submit)) s"
  for f in "$plan"/logs/*.out; do
    echo "--- $f"
    tail -n 15 "$f"
  done

  step "frugalbench collect"
  local rc=0
  "$bin" collect "$plan" --resubmit || rc=$?
  [ "$rc" -eq 1 ] || die "collect should exit 1 (one job fails on purpose), got $rc"
  "$bin" collect "$plan" --json >"$work/collect.json" || true

  step "checking every job"
  python3 - "$work/collect.json" "$plan" "$job_id" "$host" <<'EOF'
import json, pathlib, sys
report_path, plan, array_id, host = sys.argv[1:]
r = json.load(open(report_path))
states = {(j["model"], j["task"]): j for j in r["jobs"]}
expected = {
    ("all-minilm-l6-v2", "sentence-similarity"): "done",
    ("all-minilm-l6-v2", "text-classification"): "done",
    ("broken-on-purpose", "sentence-similarity"): "failed",
}
assert set(states) == set(expected), sorted(states)
for key, want in expected.items():
    j = states[key]
    assert j["state"] == want, (key, j)
    if want == "done":
        res = json.load(open(j["collected"]))
        assert res["status"] == "complete", res["status"]
        assert res["model"]["id"] == key[0] and res["task"] == key[1]
        s = res.get("slurm") or {}
        assert s.get("array_job_id") == array_id, s
        assert s.get("array_task_id") == str(j["index"]), s
        assert s.get("node") == host, s
        assert res["energy"]["wh_per_1000_queries"] > 0, res["energy"]
        print(f"job {j['index']}: {key[0]} on {key[1]}: done on {s['node']} "
              f"(Slurm {s['array_job_id']}_{s['array_task_id']}), "
              f"{res['energy']['wh_per_1000_queries']:.4f} Wh/1k queries ({res['energy']['method']})")
    else:
        err = pathlib.Path(plan, "jobs", f"{j['index']}.error.txt")
        assert err.is_file(), err
        assert not list(pathlib.Path(plan, "results", str(j["index"])).rglob("*.json")), "a failed job left a result"
        print(f"job {j['index']}: {key[0]} on {key[1]}: failed as intended: {j['detail']}")
broken = states[("broken-on-purpose", "sentence-similarity")]["index"]
assert r["resubmit"] == [broken], r["resubmit"]
assert r["resubmit_command"] == f"sbatch --array={broken}%2 {plan}/job.sbatch", r["resubmit_command"]
assert r["done"] == 2 and r["failed"] == 1 and r["missing"] == 0, r
print("collect: 2 done, 1 failed; resubmit:", r["resubmit_command"])
EOF

  leaderboard "$bin" "$plan/collected" "$work/site"

  step "selftest passed in $((SECONDS - t0)) s (work folder $work)"
  if [ "$started" -eq 1 ]; then
    trap - EXIT
    down
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  selftest) selftest ;;
  status) status ;;
  *)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 2
    ;;
esac
