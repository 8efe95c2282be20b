#!/usr/bin/env bash
# bench_step_counts.sh — what a training step costs besides arithmetic, as `bench step --json`
# counts it (backends/backend.h says what each counter counts): the same model runs the same ops
# on every backend; on the cpu an op is one dispatch and the host never waits; on the GPU APIs
# every op launches at least one device command and the launches, host waits and (vulkan)
# submissions per step stay within the budgets below. Lower a budget when a change lowers the
# count, so that it cannot creep back.
# A backend with no device here is skipped unless named in TS_REQUIRE_BACKENDS.
source "$(dirname "$0")/lib.sh"
export TUNESCALE_CACHE_DIR=$tmp/cache
# the budgets are for untuned devices (a GEMM tuning file could choose split-K: two dispatches)
export TUNESCALE_CACHE=$tmp/cache

# model: budgets per backend as "dispatches host_waits submissions" (submissions: vulkan only)
declare -A budget=(
  [opencl transformer-1M]="153 1 -"
  [vulkan transformer-1M]="149 1 1"
  [opencl lstm-1M]="1057 1 -"
  [vulkan lstm-1M]="1057 1 1"
)
# every product forced onto our tiled SGEMM (TUNESCALE_GEMM=tiled): ff.0's bias, GELU and
# dropout and the output layer's bias ride in their product's launch (gemm_epilogue.h). The
# counts do not depend on the sequence length: a short one keeps the slow CPU drivers quick.
declare -A tiled_budget=([opencl]=148 [vulkan]=144)
declare -A have=()

# lstm-1M with the persistent LSTM kernel forced (TUNESCALE_LSTM_PATH=persistent), opencl
persistent_budget=41
# lstm-1M with the split-K path forced (TUNESCALE_LSTM_PATH=split), both: a partial product and
# a cell per time step and direction, none for the first step forward (no previous state) nor
# after the last backward: 2 * (2T - 1) * L = 2044 at T = 256, L = 2, plus the 33 other launches
split_budget=2077

counts() { # backend model [extra args] -> "ops dispatches host_waits submissions lstm_path"
  "$TS" bench step --backend "$1" --model "$2" --batch 2 --steps 2 --warmup 1 --json "${@:3}" \
    2>"$tmp/err" | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["submissions_per_step"]
print(d["ops_per_step"], d["dispatches_per_step"], d["host_waits_per_step"], "-" if s is None else s,
      d.get("lstm_path", "-"))'
}

skip=0
for model in transformer-1M lstm-1M; do
  read -r cpu_ops cpu_disp cpu_waits cpu_subs cpu_path <<<"$(counts cpu "$model")" ||
    die "bench step cpu $model: $(cat "$tmp/err")"
  [[ $cpu_ops -gt 0 && $cpu_disp == "$cpu_ops" && $cpu_waits == 0 && $cpu_subs == - ]] &&
    ok "cpu $model: $cpu_ops ops, one dispatch each, no host waits" ||
    bad "cpu $model: ops $cpu_ops dispatches $cpu_disp waits $cpu_waits submissions $cpu_subs"
  for be in opencl vulkan; do
    if ! "$TS" bench gemm --backend $be --size 3x5x7 --reps 1 >/dev/null 2>"$tmp/why"; then
      if grep -q "$be" <<<"${TS_REQUIRE_BACKENDS:-}"; then
        bad "$be required but unavailable: $(cat "$tmp/why")"
      else
        skip=$((skip + 1)); echo "skip $be: $(cat "$tmp/why")"
      fi
      continue
    fi
    if ! line=$(counts $be "$model"); then
      bad "bench step $be $model: $(cat "$tmp/err")"
      continue
    fi
    read -r ops disp waits subs path <<<"$line"
    [[ $model == transformer-1M ]] && have[$be]=$cpu_ops
    # an LSTM step runs one fused launch per time step (2*T*L of them) on every backend: the
    # persistent kernel is not taken by default on CPU drivers (backends/lstm_variant.h)
    if [[ $model == lstm-* ]]; then
      [[ $path == fused-step && $cpu_path == fused-step ]] && ok "$be $model: lstm path $path" ||
        bad "$be $model: lstm path $path (cpu $cpu_path)"
      # forced: one launch per layer and direction (plus the barrier words' fill) on OpenCL;
      # Vulkan refuses it on lavapipe
      if [[ $be == opencl ]]; then
        read -r pops pdisp pwaits psubs ppath <<<"$(TUNESCALE_LSTM_PATH=persistent counts $be "$model")"
        [[ $ppath == persistent && $pops == "$cpu_ops" ]] &&
          python3 -c "import sys; sys.exit(not (float('$pdisp') <= $persistent_budget))" &&
          ok "$be $model persistent: $pdisp dispatches (budget $persistent_budget), $pops ops" ||
          bad "$be $model persistent: path $ppath, $pdisp dispatches (budget $persistent_budget), $pops ops (cpu $cpu_ops): $(cat "$tmp/err")"
      fi
      read -r sops sdisp swaits ssubs spath <<<"$(TUNESCALE_LSTM_PATH=split counts $be "$model")"
      [[ $spath == split && $sops == "$cpu_ops" ]] &&
        python3 -c "import sys; sys.exit(not (float('$sdisp') <= $split_budget))" &&
        ok "$be $model split: $sdisp dispatches (budget $split_budget), $sops ops" ||
        bad "$be $model split: path $spath, $sdisp dispatches (budget $split_budget), $sops ops (cpu $cpu_ops): $(cat "$tmp/err")"
    fi
    read -r max_disp max_waits max_subs <<<"${budget[$be $model]}"
    [[ $ops == "$cpu_ops" ]] && ok "$be $model: the cpu's $ops ops" ||
      bad "$be $model: $ops ops, the cpu ran $cpu_ops"
    # whole numbers: every step of a run does the same work
    python3 -c "import sys; d,w=float('$disp'),float('$waits'); sys.exit(not (d == int(d) and w == int(w) and $ops <= d <= $max_disp and w <= $max_waits))" &&
      ok "$be $model: $disp dispatches (budget $max_disp), $waits host waits (budget $max_waits)" ||
      bad "$be $model: $disp dispatches (budget $max_disp, at least $ops), $waits host waits (budget $max_waits)"
    if [[ $max_subs != - ]]; then
      python3 -c "import sys; sys.exit(not (1 <= float('$subs') <= $max_subs))" &&
        ok "$be $model: $subs submissions per step (budget $max_subs)" ||
        bad "$be $model: $subs submissions per step (budget $max_subs)"
    fi
  done
done
for be in "${!have[@]}"; do
  read -r ops disp waits subs path <<<"$(TUNESCALE_GEMM=tiled counts $be transformer-1M --seq-len 16)"
  python3 -c "import sys; d=float('$disp'); sys.exit(not ('$ops' == '${have[$be]}' and d == int(d) and $ops <= d <= ${tiled_budget[$be]}))" &&
    ok "$be transformer-1M, tiled gemm: $disp dispatches (budget ${tiled_budget[$be]})" ||
    bad "$be transformer-1M, tiled gemm: $ops ops (cpu ${have[$be]}), $disp dispatches (budget ${tiled_budget[$be]})"
done
finish ", $skip skipped"
