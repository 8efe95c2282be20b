#!/usr/bin/env bash
# hostile_replay.sh — replays a hostile set (issue 25): ~400 inputs generated at test time by
# tests/hostile/make_inputs.py (record ingest, archives, presets, model files, checkpoints) plus
# hostile output paths, each through the command that reads it, under a time limit. Counted:
# signals and hangs, sanitizer reports (scripts/sanitize.sh runs this under ASan + UBSan), writes
# outside the target folder (a canary tree beside it, compared file by file before and after) and
# user files removed or changed (files planted inside the targets). All four must be 0.
source "$(dirname "$0")/lib.sh"
export XDG_CACHE_HOME="$tmp/root/work/xdg" # downloads, had there been any, stay in the target

root="$tmp/root" W="$tmp/root/work"
mkdir -p "$W" "$root/canary/sub/deeper" "$root/canary/samples"
for f in canary/userdata.json canary/thesis.tmp.1 canary/notes.tmp.99999@elsewhere \
         canary/sub/train.bin canary/sub/deeper/x.abc canary/samples/mine.abc canary/escape.abc \
         canary/.staging-1 canary/zip-escape.abc; do
  echo "user file $f" >"$root/$f"
done
ln -s "$root/canary/userdata.json" "$root/canary/link"
# snapshot PATH: every entry outside the target with its type, size, mode and content hash
snapshot() {
  (cd "$root" && find . -path ./work -prune -o -print0 | sort -z |
    while IFS= read -r -d '' p; do
      if [ -f "$p" ] && [ ! -L "$p" ]; then h=$(sha256sum <"$p" | cut -c1-16); else h=-; fi
      echo "$p $(stat -c '%F %s %a' "$p") $h"
    done) >"$1"
}
snapshot "$tmp/before"
planted=() # user files inside target folders: must stay as they were
plant() { mkdir -p "$(dirname "$1")"; echo "user file $1" >"$1"; planted+=("$1"); }

# a tiny dataset and a real checkpoint to derive inputs from
mkdir -p "$W/tunes"
cp "$SRC/bench/data/"*.abc "$W/tunes/"
"$TS" data prepare --input "$W/tunes" --out "$W/data" --max-chars 20k -q
TRAIN=(--data "$W/data" --model lstm-tiny --batch 2 --seq-len 8 --steps 2 --threads 1 -q)
"$TS" train "${TRAIN[@]}" --out "$W/good-run"
python3 "$SRC/tests/hostile/make_inputs.py" "$W/in" "$W/good-run/checkpoint.safetensors" >"$tmp/gen.txt"

runs=0 signals=0 reports=0 hung=0
declare -A by_kind
# one NAME KIND CMD...: runs CMD (20 s limit), counts signals, hangs and sanitizer reports
one() {
  local name=$1 kind=$2; shift 2
  local rc=0
  timeout -k 2 20 "$@" >/dev/null 2>"$tmp/err" || rc=$?
  runs=$((runs + 1))
  by_kind[$kind]=$(( ${by_kind[$kind]:-0} + 1 ))
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then hung=$((hung + 1)); bad "hang: $kind $name"; fi
  if [ "$rc" -gt 128 ] && [ "$rc" != 137 ]; then signals=$((signals + 1)); bad "signal $((rc - 128)): $kind $name"; fi
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer' "$tmp/err"; then
    reports=$((reports + 1)); bad "sanitizer report: $kind $name"; head -20 "$tmp/err"
  fi
  return 0
}

i=0
while read -r f; do i=$((i + 1))
  one "$f" ingest "$TS" data prepare --input "$f" --out "$W/o/ingest-$i" --max-chars 20k -q
done <"$W/in/ingest.list"
while read -r f; do i=$((i + 1))
  one "$f" archive "$TS" data prepare --input "$f" --out "$W/o/archive-$i" --max-unpacked 4M -q
done <"$W/in/archive.list"
while read -r f; do i=$((i + 1))
  one "$f" preset "$TS" sweep --preset "$f" --data "$W/data" --out "$W/o/sweep-$i" --backend cpu --dry-run -q
  case $f in *name*|*escape*) # these would write files named from the preset: run for real
    one "$f" preset "$TS" sweep --preset "$f" --data "$W/data" --out "$W/o/sweepr-$i" --backend cpu --threads 1 -q ;;
  esac
done <"$W/in/preset.list"
while read -r f; do i=$((i + 1))
  one "$f" model "$TS" train --data "$W/data" --model "$f" --batch 2 --seq-len 8 --steps 1 --threads 1 -q --out "$W/o/model-$i"
done <"$W/in/model.list"
while read -r f; do i=$((i + 1))
  mkdir -p "$W/o/ckpt-$i"
  cp "$f" "$W/o/ckpt-$i/checkpoint.safetensors"
  one "$f" ckpt "$TS" train "${TRAIN[@]}" --out "$W/o/ckpt-$i" --resume
done <"$W/in/ckpt.list"

# ---- output paths: what exists there is the user's unless tunescale marked it -------------------
P="$W/paths"
mkdir -p "$P"
dead=$(sh -c 'echo $$')
host=$(hostname | tr -cd 'A-Za-z0-9.-')
plant "$P/file-out"
one file-out path "$TS" data prepare --input "$W/tunes" --out "$P/file-out" -q
ln -s "$P/nowhere" "$P/dangling"
one dangling path "$TS" data prepare --input "$W/tunes" --out "$P/dangling" -q
[ -L "$P/dangling" ] || bad "dangling link removed"
for a in train.bin vocab.json dataset.json splits.tsv; do
  plant "$P/foreign-$a/$a"
  one "foreign $a" path "$TS" data prepare --input "$W/tunes" --out "$P/foreign-$a" --max-chars 20k -q
done
mkdir -p "$P/link-artefact"
ln -s "$root/canary/userdata.json" "$P/link-artefact/vocab.json"
one "vocab.json a link to a user file" path "$TS" data prepare --input "$W/tunes" --out "$P/link-artefact" --max-chars 20k -q
plant "$P/stale/.staging-$dead/keep"
plant "$P/stale/.staging-$dead@elsewhere/keep"
plant "$P/stale/.staging-me@$host/keep"
one "foreign staging names" path "$TS" data prepare --input "$W/tunes" --out "$P/stale" --max-chars 20k -q
for n in "notes.tmp.$dead" "result.json.tmp.$dead" "a.tmp.$dead@elsewhere" "b.tmp.1x@$host" "c.tmp.$dead@$host.bak"; do
  plant "$P/train-tmp/$n"
done
one "user *.tmp.* files" path "$TS" train "${TRAIN[@]}" --out "$P/train-tmp"
plant "$P/train-file"
one "train --out FILE" path "$TS" train "${TRAIN[@]}" --out "$P/train-file"
mkdir -p "$P/lock-link"
ln -s "$root/canary/userdata.json" "$P/lock-link/.train.lock"
one "train lock a link" path "$TS" train "${TRAIN[@]}" --out "$P/lock-link"
plant "$P/sweep-file"
one "sweep --out FILE" path "$TS" sweep --preset micro --data "$W/data" --out "$P/sweep-file" --backend cpu --dry-run -q
mkdir -p "$P/fin/sweep/runs/cpu"
cp -r "$W/good-run" "$P/fin/sweep/runs/cpu/lstm-tiny"
plant "$P/fin/out/samples/mine.abc"
one "finalize over user samples/" path "$TS" finalize "$P/fin/sweep" --out "$P/fin/out" --tokens 32 --n 1 --max-len 16 --threads 1 -q
cp -r "$W/tunes" "$P/self"
one "prepare --input X --out X (1)" path "$TS" data prepare --input "$P/self" --out "$P/self" --max-chars 20k -q
one "prepare --input X --out X (2)" path "$TS" data prepare --input "$P/self" --out "$P/self" --max-chars 20k --force -q
plant "$P/cache-file"
one "--cache-dir FILE" path "$TS" data prepare --input "file://$W/tunes/$(ls "$W/tunes" | head -1)" --cache-dir "$P/cache-file" --out "$P/cache-out" -q
mkfifo "$P/fifo.abc"
one "FIFO input" path "$TS" data prepare --input "$P/fifo.abc" --out "$P/fifo-out" -q
mkdir -p "$P/fifo-dir" && mkfifo "$P/fifo-dir/x.abc" && mkfifo "$P/fifo-dir/y.zip"
one "FIFO in a folder" path "$TS" data prepare --input "$P/fifo-dir" --out "$P/fifo-dir-out" -q
mkfifo "$P/fifo-model.json"
one "FIFO model" path "$TS" train --data "$W/data" --model "$P/fifo-model.json" --steps 1 --threads 1 -q --out "$P/fifo-m"
mkfifo "$P/fifo-preset.json"
one "FIFO preset" path "$TS" sweep --preset "$P/fifo-preset.json" --data "$W/data" --out "$P/fifo-s" --backend cpu --dry-run -q

# ---- the four counts ---------------------------------------------------------------------------
snapshot "$tmp/after"
outside=$(diff "$tmp/before" "$tmp/after" | grep -c '^[<>]' || true)
[ "$outside" = 0 ] || { bad "changes outside the target:"; diff "$tmp/before" "$tmp/after" | head -20; }
removed=0
for f in "${planted[@]}"; do
  if [ ! -f "$f" ] || [ "$(cat "$f")" != "user file $f" ]; then removed=$((removed + 1)); bad "user file removed or changed: $f"; fi
done
escapes=$(find "$tmp" -name '*escape*' ! -path "$W/in/*" ! -path "$root/canary/*" | wc -l)
[ "$escapes" = 0 ] || { bad "archive members written outside: $(find "$tmp" -name '*escape*' ! -path "$W/in/*" ! -path "$root/canary/*" | head -3)"; }
kinds=""
for k in "${!by_kind[@]}"; do kinds+="$k ${by_kind[$k]}, "; done
echo "replayed $runs runs ($kinds$(cat "$tmp/gen.txt" | awk '{print $NF}') generated inputs): $signals signals, $hung hangs, $reports sanitizer reports, $outside entries changed outside the target, $removed user files removed or changed"
[ "$runs" -ge 200 ] && ok "at least 200 hostile runs ($runs)" || bad "only $runs runs"
[ $((signals + hung + reports + outside + removed + escapes)) = 0 ] && ok "0 signals, 0 hangs, 0 sanitizer reports, 0 writes outside, 0 user files removed" \
  || bad "hostile replay"
finish
