#!/usr/bin/env bash
# finalize.sh — `tunescale finalize` on a two-run sweep of tiny models: it picks the run with the
# lower val_loss, trains it further from its weights, samples unconditional and prompted tunes,
# converts them to MIDI, evaluates them and writes final.json and ARTEFACTS.md; a rerun reuses
# the finished training and draws the same tunes; a lost result resumes from the checkpoint.
source "$(dirname "$0")/lib.sh"

"$TS" data prepare --input "$SRC/bench/data" --out "$tmp/data" --max-chars 300k -q
sweep="$tmp/sweep"
"$TS" train --data "$tmp/data" --model transformer-small --batch 8 --seq-len 64 --steps 40 \
  --lr 2e-3 --threads 2 --out "$sweep/runs/cpu/transformer-small" -q
"$TS" train --data "$tmp/data" --model lstm-small --batch 8 --seq-len 64 --steps 5 \
  --lr 1e-3 --threads 2 --out "$sweep/runs/cpu/lstm-small" -q
# a failed run with a tempting val_loss must be ignored
mkdir -p "$sweep/runs/cpu/broken"
echo '{"status": "failed: diverged", "val_loss": 0.1, "model": {"name": "lstm-small"}}' \
  >"$sweep/runs/cpu/broken/result.json"

rc=0
"$TS" finalize "$sweep" --tokens 6000 --n 2 --max-len 120 --threads 2 --seed 5 -q 2>"$tmp/e" || rc=$?
[ $rc -eq 0 ] && ok "finalize runs" || bad "finalize (rc=$rc): $(cat "$tmp/e")"
out="$sweep/final"
python3 - "$sweep" <<'PY' && ok "final.json: best run, training, metrics, files" || bad "final.json"
import json, os, sys
sweep = sys.argv[1]
runs = {n: json.load(open(f"{sweep}/runs/cpu/{n}/result.json")) for n in ("transformer-small", "lstm-small")}
best = min(runs, key=lambda n: runs[n]["val_loss"])
f = json.load(open(f"{sweep}/final/final.json"))
assert f["schema"] == "tunescale.final/1"
assert f["best"]["model"] == best and f["best"]["run_dir"].endswith(best), f["best"]
assert abs(f["best"]["val_loss"] - runs[best]["val_loss"]) < 1e-12
t = f["training"]
assert t["lr"] == 2e-4 and t["tokens"] > 0 and t["test_perplexity"] > 1, t
tr = json.load(open(f"{sweep}/final/train/result.json"))
assert tr["status"] == "ok" and tr["hyperparameters"]["lr"] == 2e-4
assert tr["hyperparameters"]["seq_len"] == runs[best]["hyperparameters"]["seq_len"]
m = f["metrics"]
assert m["files"] == 4, m
for k in ("strict_valid_pct", "loose_valid_pct", "midi_pct"):
    assert 0 <= m[k] <= 100, (k, m[k])
assert m["windows"] > 0 and 0 <= m["novelty"] <= 1
names = sorted(os.listdir(f"{sweep}/final/samples"))
abc = [n for n in names if n.endswith(".abc")]
assert abc == ["prompted_01.abc", "prompted_02.abc", "unconditional_01.abc", "unconditional_02.abc"], names
s = json.load(open(f"{sweep}/final/samples/samples.json"))
pr = [x for x in s["samples"] if x["prompt"]]
assert pr[0]["prompt"].startswith("X:1\nT:Generated Reel\nM:4/4") and pr[1]["prompt"].startswith("X:1\nT:Generated Jig")
for x in s["samples"]:
    text = open(f"{sweep}/final/samples/{x['file']}").read()
    assert text == x["text"] and x["stop"] in ("eos", "blank_lines", "max_len") and x["tokens"] <= 120
    if x["prompt"]:
        assert text.startswith(x["prompt"]), (text[:60], x["prompt"])
mids = [r["midi_file"] for r in f["per_file"] if r["midi"]]
assert len(mids) * 25 == round(m["midi_pct"] * 4 * 25 / 100), (mids, m["midi_pct"])
for mid in mids:
    assert open(f"{sweep}/final/samples/{mid}", "rb").read(4) == b"MThd"
PY
md="$out/ARTEFACTS.md"
if grep -q '^| test perplexity |' "$md" && grep -q '^| MIDI conversion |' "$md" \
   && grep -q '(samples/unconditional_01.abc)' "$md" && grep -q '^```abc' "$md" \
   && [ "$(grep -c '^### ' "$md")" -eq 4 ]; then
  ok "ARTEFACTS.md: metrics table, four tunes inline, links"
else
  bad "ARTEFACTS.md: $(head -c 600 "$md")"
fi

# rerun: the finished training is reused and the same tunes are drawn
same_tunes() { # the .abc files equal the first run's (samples.json holds timings)
  for f in "$tmp"/first/*.abc; do cmp -s "$f" "$out/samples/$(basename "$f")" || return 1; done
}
cp -r "$out/samples" "$tmp/first"
"$TS" finalize "$sweep" --tokens 6000 --n 2 --max-len 120 --threads 2 --seed 5 2>"$tmp/e" >/dev/null
grep -q "already trained" "$tmp/e" && ok "rerun reuses the finished training" || bad "rerun: $(cat "$tmp/e")"
same_tunes && ok "rerun draws byte-identical tunes" || bad "tunes differ on rerun"

# an interrupted training (checkpoint but no result) resumes instead of starting over
rm "$out/train/result.json" "$out/train/model.safetensors"
"$TS" finalize "$sweep" --tokens 6000 --n 2 --max-len 120 --threads 2 --seed 5 2>"$tmp/e" >/dev/null
if ! grep -q "step [0-9]*/" "$tmp/e" && [ -f "$out/train/model.safetensors" ] \
   && same_tunes; then
  ok "lost result: training resumes from its checkpoint (no steps redone, same tunes)"
else
  bad "resume: $(cat "$tmp/e")"
fi

rc=0; "$TS" finalize "$tmp/data" -q 2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] && grep -q "no finished run" "$tmp/e" && ok "no runs -> exit 2" || bad "no runs (rc=$rc)"
rc=0; "$TS" finalize 2>/dev/null || rc=$?
[ $rc -eq 2 ] && ok "no SWEEP_DIR -> exit 2" || bad "usage (rc=$rc)"

finish
