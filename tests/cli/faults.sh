#!/usr/bin/env bash
# faults.sh — resource and state faults end to end (issue 9, items 2 and 4): an injected device
# error mid-run (TUNESCALE_FAULT=op:N) and an injected allocation failure stop the run cleanly
# and keep the last checkpoint; in a sweep that run is recorded as failed and the next runs;
# out of disk space (RLIMIT_FSIZE) in train and data prepare names the file and loses nothing;
# a corrupt, truncated or foreign checkpoint is refused by train --resume and started over by a
# sweep; a result.json that does not parse makes the sweep run that run again.
source "$(dirname "$0")/lib.sh"
unset TUNESCALE_FAULT

# run NAME CMD...: exit status in $rc, stderr in $tmp/NAME.err (stdout dropped)
run() { local n=$1; shift; set +e; "$@" >/dev/null 2>"$tmp/$n.err"; rc=$?; set -e; }
one_line() { [ "$(wc -l <"$tmp/$1.err")" = 1 ]; }
no_tmp() { ! find "$1" -name '*.tmp.*' | grep -q .; }
status() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['status'])" "$1"; }
sums() { (cd "$1" && find . -type f ! -name '*.log' -print0 | sort -z | xargs -0 sha256sum); }

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 200k -q
common=(--data "$tmp/data" --model transformer-small --batch 4 --seq-len 32 --steps 20
        --checkpoint-every 5 --threads 1 --seed 7 -q)
"$TS" train "${common[@]}" --out "$tmp/ref" && ok "reference run" || bad "reference run"

# ---- 1. device error mid-run: clear message, exit 1, the last checkpoint kept -------------------
# Find a call number past the first checkpoint (step 5) but before the end (step 20).
found=
for n in 500 1000 2000 4000 8000 16000 32000; do
  rm -rf "$tmp/cut"
  run op env TUNESCALE_FAULT=op:$n "$TS" train "${common[@]}" --out "$tmp/cut"
  [ $rc = 0 ] && break
  if [ -f "$tmp/cut/checkpoint.safetensors" ]; then found=$n; break; fi
done
if [ -n "$found" ]; then
  ok "TUNESCALE_FAULT=op:$found fails a run after its first checkpoint"
  [ $rc = 1 ] && ok "device fault: exit 1" || bad "device fault: exit $rc"
  one_line op && grep -q "injected device fault at call $found" "$tmp/op.err" \
    && ok "one clear line: $(cat "$tmp/op.err")" || { bad "device fault message"; cat "$tmp/op.err"; }
  [ ! -e "$tmp/cut/model.safetensors" ] && [ ! -e "$tmp/cut/result.json" ] \
    && ok "no final weights or result written from a failed device" || bad "files written after the fault"
  no_tmp "$tmp/cut" && ok "no temporary left" || bad "temporaries left"
  "$TS" train "${common[@]}" --out "$tmp/cut" --resume \
    && cmp -s "$tmp/ref/model.safetensors" "$tmp/cut/model.safetensors" \
    && ok "the kept checkpoint resumes to bit-identical weights" || bad "checkpoint after the fault"
else
  bad "no TUNESCALE_FAULT=op:N between the first checkpoint and the end"
fi
# a fault in the first device calls: nothing is left behind but the run folder
run op1 env TUNESCALE_FAULT=op:1 "$TS" train "${common[@]}" --out "$tmp/op1"
[ $rc = 1 ] && one_line op1 && ok "fault at the first call: exit 1, one line" || { bad "op:1 (rc $rc)"; cat "$tmp/op1.err"; }
# allocation failure: a device out of memory, recorded as skipped (exit 3)
run alloc env TUNESCALE_FAULT=alloc:3 "$TS" train "${common[@]}" --out "$tmp/alloc"
[ $rc = 3 ] && one_line alloc && grep -q "out of device memory" "$tmp/alloc.err" \
  && [ "$(status "$tmp/alloc/result.json")" = "skipped: out of memory" ] \
  && ok "alloc:3: exit 3, one line, recorded as skipped: $(cat "$tmp/alloc.err")" \
  || { bad "alloc fault (rc $rc)"; cat "$tmp/alloc.err"; }
for spec in op: op:0 op:x disk:3 op:3@; do
  run spec env TUNESCALE_FAULT=$spec "$TS" train "${common[@]}" --out "$tmp/spec"
  [ $rc = 2 ] && one_line spec && grep -q TUNESCALE_FAULT "$tmp/spec.err" \
    && ok "TUNESCALE_FAULT=$spec refused: exit 2" || { bad "bad spec $spec (rc $rc)"; cat "$tmp/spec.err"; }
done

# ---- 2. in a sweep: that run is recorded as failed, the next runs are fine -------------------
micro=(--preset micro --data "$tmp/data" --threads 1 --backend cpu -q)
run sw env TUNESCALE_FAULT=op:50@"$tmp/fired" "$TS" sweep "${micro[@]}" --out "$tmp/sw"
[ $rc = 1 ] && ok "sweep with a device fault exits 1" || { bad "sweep fault exit $rc"; cat "$tmp/sw.err"; }
/usr/bin/python3 - "$tmp/sw" <<'PY' && ok "the faulted run is 'failed: ...injected device fault...', the other 3 ran ok" || bad "sweep fault records"
import glob, json, sys
st = sorted(json.load(open(p))["status"] for p in glob.glob(sys.argv[1] + "/runs/cpu/*/result.json"))
assert len(st) == 4, st
failed = [s for s in st if s != "ok"]
assert len(failed) == 1 and failed[0].startswith("failed:") and "injected device fault" in failed[0], st
PY
run sw2 "$TS" sweep "${micro[@]}" --out "$tmp/sw"
[ $rc = 0 ] && [ "$(for f in "$tmp"/sw/runs/cpu/*/result.json; do status "$f"; done | sort -u)" = ok ] \
  && ok "a re-run of the sweep runs the failed run again: all ok" || { bad "sweep re-run after a fault (rc $rc)"; cat "$tmp/sw2.err"; }

# ---- 3. out of disk space: names the file, loses nothing ----------------------------------------
# ulimit -f (1 KiB blocks) makes a write past the size fail with EFBIG; SIGXFSZ is ignored so
# the process sees the error instead of dying.
small() { (trap '' XFSZ; ulimit -f "$1"; shift; "$@"); }
ckpt_kb=$(( $(stat -c %s "$tmp/ref/checkpoint.safetensors") / 1024 ))
cp -r "$tmp/ref" "$tmp/full"
before=$(sums "$tmp/full")
run fsz small $((ckpt_kb / 2)) "$TS" train "${common[@]}" --out "$tmp/full"
[ $rc = 1 ] && ok "train out of space: exit 1" || bad "train out of space: exit $rc"
one_line fsz && grep -q "checkpoint.safetensors" "$tmp/fsz.err" \
  && ok "one line naming the file: $(cat "$tmp/fsz.err")" || { bad "train out-of-space message"; cat "$tmp/fsz.err"; }
[ "$(sums "$tmp/full")" = "$before" ] && no_tmp "$tmp/full" \
  && ok "earlier checkpoint, weights and result.json intact, no temporary left" || bad "files changed or left by a full disk"

cp -r "$tmp/data" "$tmp/data2"
before=$(sums "$tmp/data2")
run dsz small 64 "$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data2" --max-chars 300k --force -q
[ $rc -ne 0 ] && [ $rc -lt 128 ] && ok "data prepare out of space: exit $rc" || bad "data prepare out of space: exit $rc"
one_line dsz && grep -qE '\.bin|\.json|\.tsv' "$tmp/dsz.err" \
  && ok "one line naming the file: $(cat "$tmp/dsz.err")" || { bad "data prepare out-of-space message"; cat "$tmp/dsz.err"; }
[ "$(sums "$tmp/data2")" = "$before" ] && no_tmp "$tmp/data2" && [ "$(ls -A "$tmp/data2" | wc -l)" = "$(ls -A "$tmp/data" | wc -l)" ] \
  && ok "the existing dataset is intact, nothing half-written left" || { bad "dataset changed by a full disk"; ls -la "$tmp/data2"; }
run dsz2 small 64 "$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data3" --max-chars 300k -q
[ $rc -ne 0 ] && [ $rc -lt 128 ] && [ ! -e "$tmp/data3" ] \
  && ok "a new dataset out of space leaves no folder behind" || { bad "new dataset out of space (rc $rc)"; ls -la "$tmp/data3"; }

# ---- 4. corrupt checkpoints: train --resume says so, a sweep starts the run over --------------
mk() { rm -rf "$tmp/c"; cp -r "$tmp/ref" "$tmp/c"; rm -f "$tmp/c/model.safetensors" "$tmp/c/result.json"; }
size=$(stat -c %s "$tmp/ref/checkpoint.safetensors")
check_resume() { # name, grep pattern
  run "$1" "$TS" train "${common[@]}" --out "$tmp/c" --resume
  [ $rc -ne 0 ] && [ $rc -lt 128 ] && one_line "$1" && grep -qiE "$2" "$tmp/$1.err" && grep -q checkpoint "$tmp/$1.err" \
    && ok "$1 checkpoint: exit $rc, $(cat "$tmp/$1.err")" || { bad "$1 checkpoint (rc $rc)"; cat "$tmp/$1.err"; }
}
mk; printf '\x5a' | dd of="$tmp/c/checkpoint.safetensors" bs=1 seek=$((size - 100)) conv=notrunc status=none
check_resume flipped "checksum|corrupt|damaged"
mk; truncate -s $((size / 2)) "$tmp/c/checkpoint.safetensors"
check_resume truncated "truncated|short|corrupt|damaged|size"
mk; "$TS" train --data "$tmp/data" --model lstm-small --batch 4 --seq-len 32 --steps 5 --threads 1 -q --out "$tmp/other"
cp "$tmp/other/checkpoint.safetensors" "$tmp/c/checkpoint.safetensors"
check_resume foreign "another model"

# In a sweep: damage a finished run's checkpoint, drop its result, the sweep starts it over.
rd=$(ls -d "$tmp"/sw/runs/cpu/* | head -1)
want=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['val_loss'])" "$rd/result.json")
rm "$rd/result.json" "$rd/model.safetensors"
s=$(stat -c %s "$rd/checkpoint.safetensors")
printf '\x5a' | dd of="$rd/checkpoint.safetensors" bs=1 seek=$((s - 100)) conv=notrunc status=none
run swc "$TS" sweep "${micro[@]}" --out "$tmp/sw"
got=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['val_loss'])" "$rd/result.json" 2>/dev/null || echo none)
[ $rc = 0 ] && [ "$got" = "$want" ] && ls "$rd" | grep -q 'checkpoint.safetensors.rejected-' \
  && ok "sweep: corrupt checkpoint set aside, run started over, same val loss $got" \
  || { bad "sweep with a corrupt checkpoint (rc $rc, val $got vs $want)"; cat "$tmp/swc.err"; ls "$rd"; }

# ---- 5. a result.json that does not parse: the sweep runs that run again ----------------------
rd=$(ls -d "$tmp"/sw/runs/cpu/* | tail -1)
want=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['val_loss'])" "$rd/result.json")
head -c 200 "$rd/result.json" >"$rd/r" && mv "$rd/r" "$rd/result.json"
run swr "$TS" sweep "${micro[@]}" --out "$tmp/sw"
got=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['val_loss'])" "$rd/result.json" 2>/dev/null || echo none)
[ $rc = 0 ] && [ "$got" = "$want" ] && ok "sweep: unparsable result.json, the run ran again (val loss $got)" \
  || { bad "sweep with a broken result.json (rc $rc, val $got vs $want)"; cat "$tmp/swr.err"; }
printf 'not json' >"$rd/result.json"
run swr2 "$TS" sweep "${micro[@]}" --out "$tmp/sw"
[ $rc = 0 ] && [ "$(status "$rd/result.json")" = ok ] && ok "sweep: garbage result.json re-run" || bad "garbage result.json (rc $rc)"

finish
