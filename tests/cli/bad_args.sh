#!/usr/bin/env bash
# bad_args.sh — hostile command lines (issue 9, item 7): every command with unknown flags,
# missing values, zero or negative sizes, non-numbers, unknown backends and devices out of
# range. Each must exit 2 (usage) with exactly one line on stderr, never crash (exit >= 128), and
# a bad value must name its flag.
# Exceptions: a file or folder that does not exist may exit 1 or 2 (commands differ; either way
# one clear line), and a --device index past the devices this machine has exits 1, a runtime
# failure (the index is well formed, the machine lacks it; `tunescale devices` lists them),
# where the backend is built (else 2: not built).
source "$(dirname "$0")/lib.sh"
export TUNESCALE_CACHE="$tmp/cache"
unset TUNESCALE_FAULT

# expect CODES ARGS...: exit status in CODES (e.g. "2" or "1 2"), one stderr line, no crash
expect() {
  local codes=$1; shift
  local t0=$EPOCHREALTIME; set +e; timeout 120 "$TS" "$@" </dev/null >/dev/null 2>"$tmp/err"; local rc=$?; set -e; [ -z "${TS_TIME:-}" ] || echo "$(echo "$EPOCHREALTIME - $t0" | bc) $*" >>"$TS_TIME"
  local lines; lines=$(wc -l <"$tmp/err")
  if [[ " $codes " == *" $rc "* ]] && [ "$lines" = 1 ] && { ! grep -q "bad value" "$tmp/err" || grep -qE "bad value '[^']*' for --" "$tmp/err"; }; then
    ok "[$rc] $* -> $(cat "$tmp/err")"
  else
    bad "[$rc, $lines lines; want $codes, 1 line] $*"; head -5 "$tmp/err"
  fi
}

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 100k -q
D=$tmp/data
no=$tmp/does-not-exist

# ---- devices, params ----------------------------------------------------------------------------
expect 2 devices --bogus
expect 2 devices extra
expect 2 devices --json=1
expect 2 params --bogus
expect 2 params --vocab
expect 2 params --vocab 0
expect 2 params --vocab -3
expect 2 params --vocab abc
expect 2 params --vocab 1e99

# ---- data ---------------------------------------------------------------------------------------
expect 2 data
expect 2 data frobnicate
expect 2 data prepare --bogus
expect 2 data prepare --input
expect 2 data prepare --input "$SRC/bench/data"
for bad in "--max-chars 0" "--max-chars -5" "--max-chars abc" "--max-chars 5X" "--min-len -1" \
           "--min-len abc" "--max-len 0" "--seed x" "--seed -1" "--val-frac 2" "--test-frac -0.1" \
           "--val-frac abc" "--clean nope" "--framing nope" "--encoding klingon" "--sha256 xyz"; do
  # shellcheck disable=SC2086
  expect 2 data prepare --input "$SRC/bench/data" --out "$tmp/d" $bad
done
expect 2 data prepare --input "$SRC/bench/data" --out "$tmp/d" --min-len 900 --max-len 100
expect 1 data prepare --input "$no" --out "$tmp/d"

# ---- train --------------------------------------------------------------------------------------
t=(train --model transformer-tiny --data "$D" --out "$tmp/t")
expect 2 train
expect 2 train --bogus
expect 2 train --model
expect 2 train --data "$D"
expect 2 train --model transformer-tiny --data "$D" extra
for bad in "--batch 0" "--batch -1" "--batch abc" "--batch 1.5x" "--steps 0" "--steps -3" \
           "--tokens 0" "--epochs 0" "--epochs -1" "--seq-len 0" "--seq-len abc" "--stride 0" \
           "--lr abc" "--lr -1" "--warmup -1" "--weight-decay -1" "--clip 0" "--dropout 1.5" \
           "--dropout -0.1" "--seed abc" "--seed -1" "--threads -1" "--threads abc" "--device -1" \
           "--device abc" "--mem-limit abc" "--mem-limit 0" "--mem-limit -1G" \
           "--checkpoint-every 0" "--max-nonfinite -1" "--backend cuda" "--backend ''" \
           "--steps 1e99" "--batch nan" "--lr inf"; do
  eval "expect 2 \"\${t[@]}\" $bad"
done
expect 2 train --model nope --data "$D" --out "$tmp/t"
expect "1 2" train --model "$no.json" --data "$D" --out "$tmp/t"
expect "1 2" train --model transformer-tiny --data "$no" --out "$tmp/t"
expect 1 train --model transformer-tiny --data "$D" --out "$tmp/t" --seq-len 8 --init "$no"
# a device index past this machine's devices: exit 1 where the backend is built, else 2
expect "1 2" "${t[@]}" --seq-len 8 --steps 1 --backend vulkan --device 99
expect "1 2" "${t[@]}" --seq-len 8 --steps 1 --backend opencl --device 99

# ---- sweep --------------------------------------------------------------------------------------
s=(sweep --preset micro --data "$D" --backend cpu --out "$tmp/s")
expect 2 sweep
expect 2 sweep --bogus
expect 2 sweep --preset
expect 2 sweep --preset nope --data "$D" --backend cpu --out "$tmp/s"
expect 2 sweep --preset micro --data "$D" --out "$tmp/s"
expect 2 "${s[@]}" extra
for bad in "--steps 0" "--steps abc" "--tokens -1" "--epochs 0" "--batch 0" "--seq-len -1" \
           "--stride 0" "--lr abc" "--threads -1" "--device -1" "--device abc" "--mem-limit abc" \
           "--max-params abc" "--max-params 0" "--models ''" "--models nothing" \
           "--checkpoint-every 0" "--backend cuda" "--backend cpu,cuda" "--backend ''"; do
  eval "expect 2 \"\${s[@]}\" $bad"
done
expect "1 2" sweep --preset micro --data "$D" --backend vulkan --device 99 --out "$tmp/s"
expect "1 2" sweep --preset micro --data "$D" --backend opencl --device 99 --out "$tmp/s"

# ---- report, compare ----------------------------------------------------------------------------
expect 2 report
expect 2 report --bogus "$tmp"
expect 2 report "$tmp" "$tmp"
expect 2 report "$tmp" --bootstrap -1
expect 2 report "$tmp" --bootstrap abc
expect 2 report "$tmp" --seed abc
expect 1 report "$no"
expect 2 compare
expect 2 compare --bogus "$tmp"
expect 2 compare "$tmp" --out
expect 1 compare "$no"

# ---- bench --------------------------------------------------------------------------------------
expect 2 bench
expect 2 bench frobnicate
expect 2 bench gemm --bogus
expect 2 bench gemm --backend cuda
for bad in "--size 0x4x4" "--size -1x4x4" "--size axbxc" "--size 4x4" "--size 4x4x4x4" \
           "--reps 0" "--reps abc" "--threads -1" "--device -1"; do
  eval "expect 2 bench gemm --backend cpu $bad"
done
expect 2 bench peak --bogus
expect 2 bench peak --backend cpu --seconds 0
expect 2 bench peak --backend cpu --seconds abc
expect 2 bench peak --backend cpu --reps 0
expect 2 bench peak --backend cuda
expect 2 bench step --bogus
expect 2 bench step --backend cpu
for bad in "--batch 0" "--steps 0" "--steps -1" "--seq-len 0" "--warmup -1" "--vocab 3" \
           "--vocab abc" "--vocab 4" "--vocab 1" "--threads -1" "--mem-limit abc" "--backend cuda" "--model nope"; do
  eval "expect 2 bench step --backend cpu --model transformer-tiny $bad"
done
expect "1 2" bench step --backend vulkan --device 99 --model transformer-tiny --seq-len 8 --steps 1
expect "1 2" bench gemm --backend opencl --device 99 --size 4x4x4
expect "1 2" bench peak --backend vulkan --device 99 --quick

# ---- sample, eval, finalize ------------------------------------------------------------------------
"$TS" train --model transformer-tiny --data "$D" --seq-len 8 --batch 2 --steps 2 --threads 1 -q --out "$tmp/run"
ck=$tmp/run/model.safetensors
expect 2 sample
expect 2 sample --bogus
expect 2 sample --checkpoint
expect 2 sample --checkpoint "$ck" extra
for bad in "--n 0" "--n -1" "--n abc" "--temperature abc" "--temperature -1" "--top-k -1" \
           "--top-p 2" "--top-p -0.5" "--max-len 0" "--max-len abc" "--blank-lines -1" \
           "--context 0" "--window nope" "--seed abc" "--threads -1" "--device -1" \
           "--backend cuda" "--model nope"; do
  eval "expect 2 sample --checkpoint \"\$ck\" $bad"
done
expect "1 2" sample --checkpoint "$no"
expect "1 2" sample --checkpoint "$ck" --backend vulkan --device 99
expect 2 eval
expect 2 eval --bogus
expect 2 eval --checkpoint "$ck" extra
for bad in "--batch 0" "--batch abc" "--seq-len 0" "--seq-len -1" "--threads -1" "--device abc" \
           "--backend cuda" "--model nope"; do
  eval "expect 2 eval --checkpoint \"\$ck\" --data \"\$D\" $bad"
done
expect "1 2" eval --checkpoint "$no" --data "$D"
expect "1 2" eval --checkpoint "$ck" --data "$no"
expect "1 2" eval --checkpoint "$ck" --data "$D" --backend opencl --device 99
expect 2 finalize
expect 2 finalize --bogus "$tmp/run"
expect 2 finalize "$tmp/run" "$tmp/run"
for bad in "--epochs 0" "--epochs -1" "--lr abc" "--tokens 0" "--n 0" "--n -2" "--max-len 0" \
           "--seed abc" "--threads -1" "--device -1" "--backend cuda"; do
  eval "expect 2 finalize \"\$tmp/run\" $bad"
done
expect "1 2" finalize "$no"

# ---- abc ----------------------------------------------------------------------------------------
printf 'X:1\nT:t\nM:4/4\nL:1/8\nK:D\nABcd efga|\n' >"$tmp/t.abc"
expect 2 abc
expect 2 abc frobnicate
expect 2 abc check
expect 2 abc check --bogus "$tmp/t.abc"
expect 1 abc check "$no"
expect 2 abc midi "$tmp/t.abc"
expect 2 abc midi "$tmp/t.abc" --out
expect 2 abc midi --bogus "$tmp/t.abc" --out "$tmp/m"
expect 1 abc midi "$no" --out "$tmp/m"

finish
