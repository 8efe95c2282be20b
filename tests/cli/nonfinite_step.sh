#!/usr/bin/env bash
# nonfinite_step.sh — a step whose gradient is not finite is skipped on the device and counted,
# and the run goes on (TUNESCALE_NONFINITE_AT=N,... poisons step N's gradient just before the
# device-side gate): the losses up to the poisoned step are the clean run's bit for bit, its
# norm is NaN, result.json counts it and the later losses take another path; a run whose every
# step is skipped ends with its initial weights (AdamW changed nothing); --max-nonfinite still
# stops a run after that many skips in a row. OpenCL and Vulkan skip the same steps and agree
# with the cpu within 1e-3.
# A backend with no device here is skipped unless named in TS_REQUIRE_BACKENDS.
source "$(dirname "$0")/lib.sh"
export TUNESCALE_CACHE_DIR=$tmp/cache
unset TUNESCALE_NONFINITE_AT
skip=0

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 100k -q
run() { # backend name steps poisoned [extra args]
  local be=$1 name=$2 steps=$3 at=$4
  shift 4
  TUNESCALE_NONFINITE_AT=$at "$TS" train --backend "$be" --model transformer-small \
    --data "$tmp/data" --steps "$steps" --seq-len 16 --batch 2 --dropout 0.1 --lr 1e-3 \
    --seed 5 --no-eval -q --out "$tmp/$name" --losses "$tmp/$name.txt" "$@"
}
weights() { # the tensors of a safetensors file (its header names the commit)
  python3 -c 'import struct,sys; x=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",x[:8])[0]; sys.stdout.buffer.write(x[8+n:])' "$1"
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

run cpu clean 6 "" --threads 2 || die "clean cpu run failed"
run cpu poisoned 6 3,4 --threads 2 || die "poisoned cpu run failed"
[ "$(field "$tmp/poisoned/result.json" status)" = ok ] &&
  [ "$(field "$tmp/poisoned/result.json" nonfinite_skipped)" = 2 ] &&
  [ "$(field "$tmp/poisoned/result.json" steps)" = 6 ] &&
  ok "cpu: steps 3 and 4 skipped and counted, the run went on to step 6" ||
  bad "cpu: result.json $(cat "$tmp/poisoned/result.json" | head -c 300)"
python3 - "$tmp/clean.txt" "$tmp/poisoned.txt" <<'PY' && ok "cpu: losses bit-identical up to step 3, norm NaN at 3 and 4, another path after" || bad "cpu: losses file"
import math, sys
clean = [l.split() for l in open(sys.argv[1])]
pois = [l.split() for l in open(sys.argv[2])]
assert len(clean) == len(pois) == 6
assert [r[:2] for r in clean[:3]] == [r[:2] for r in pois[:3]], "losses up to step 3 differ"
assert clean[:2] == pois[:2]
assert pois[3][1] != clean[3][1], "step 3 was not skipped"
assert all(math.isnan(float(pois[i][2])) for i in (2, 3)), "norm at the poisoned steps"
assert all(math.isfinite(float(r[2])) for r in clean), "clean norms finite"
assert pois[4][1] != clean[4][1], "a skipped step changed nothing after it"
PY

# every step skipped: the weights are the initial ones, whatever the run's length
run cpu all3 3 1,2,3 --threads 2 --max-nonfinite 0 || die "all-skipped run failed"
run cpu all2 2 1,2 --threads 2 --max-nonfinite 0 || die "all-skipped run failed"
run cpu none2 2 "" --threads 2 || die "2-step run failed"
if cmp -s <(weights "$tmp/all3/model.safetensors") <(weights "$tmp/all2/model.safetensors") &&
  ! cmp -s <(weights "$tmp/all2/model.safetensors") <(weights "$tmp/none2/model.safetensors"); then
  ok "cpu: runs whose every step is skipped keep their initial weights"
else
  bad "cpu: a skipped step changed the weights"
fi

# --max-nonfinite keeps its meaning: 2 skips in a row stop the run as diverged
rc=0
run cpu div 6 2,3 --threads 2 --max-nonfinite 2 2>"$tmp/div.err" || rc=$?
[ $rc = 1 ] && grep -q "diverged: 2 steps in a row" "$tmp/div.err" &&
  [ "$(field "$tmp/div/result.json" status)" = "failed: diverged" ] &&
  [ "$(field "$tmp/div/result.json" nonfinite_skipped)" = 2 ] &&
  ok "cpu: --max-nonfinite 2 stops the run at the second skip in a row" ||
  bad "cpu: --max-nonfinite (exit $rc): $(cat "$tmp/div.err")"

for be in opencl vulkan; do
  if ! "$TS" bench gemm --backend $be --size 3x5x7 --reps 1 >/dev/null 2>"$tmp/why"; then
    if grep -q "$be" <<<"${TS_REQUIRE_BACKENDS:-}"; then
      bad "$be required but unavailable: $(cat "$tmp/why")"
    else
      skip=$((skip + 1)); echo "skip $be: $(cat "$tmp/why")"
    fi
    continue
  fi
  if ! run $be $be 6 3,4; then bad "$be: poisoned run failed"; continue; fi
  python3 - "$tmp/poisoned.txt" "$tmp/$be.txt" "$tmp/$be/result.json" <<'PY' &&
import json, math, sys
ref = [l.split() for l in open(sys.argv[1])]
got = [l.split() for l in open(sys.argv[2])]
assert len(ref) == len(got) == 6
for r, g in zip(ref, got):
    assert math.isnan(float(r[2])) == math.isnan(float(g[2])), "skipped other steps"
    assert abs(float(r[1]) - float(g[1])) <= 1e-3, f"loss {g[1]} vs cpu {r[1]}"
assert json.load(open(sys.argv[3]))["nonfinite_skipped"] == 2
PY
    ok "$be: the same steps skipped and counted, losses within 1e-3 of the cpu" ||
    bad "$be: skipped steps or losses differ from the cpu"
done
finish ", $skip skipped"
