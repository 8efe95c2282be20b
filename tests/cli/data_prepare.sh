#!/usr/bin/env bash
# data_prepare.sh — `tunescale data prepare` end to end on the bundled corpus, its cache, the
# split's disjointness, and every bad input the contract names (one clear stderr line, non-zero
# exit, nothing partial left behind).
source "$(dirname "$0")/lib.sh"

# --- the bundled corpus --------------------------------------------------------------------
out=$tmp/d
"$TS" data prepare --input "$SRC/bench/data" --out "$out" >"$tmp/report.txt" 2>"$tmp/err.txt" \
  && ok "prepare on bench/data exits 0" || bad "prepare on bench/data: $(cat "$tmp/err.txt")"
expected_tunes=$(cat "$SRC"/bench/data/*.abc | grep -c '^X:')
python3 - "$out" "$expected_tunes" <<'PY' && ok "dataset.json counts, six inputs, disjoint splits" || bad "dataset checks"
import json, sys, collections, hashlib, os
out, expected = sys.argv[1], int(sys.argv[2])
d = json.load(open(os.path.join(out, "dataset.json")))
assert len(d["inputs"]) == 6, d["inputs"]
assert all(i["format"] == "abc" for i in d["inputs"])
c = d["counts"]
assert c["read"] == expected, (c["read"], expected)
dropped = sum(c["dropped"].values())
assert c["kept"] + dropped == c["read"], c
assert sum(d["splits"][s]["tunes"] for s in ("train", "val", "test")) == c["kept"]
for s in ("train", "val", "test"):
    size = os.path.getsize(os.path.join(out, s + ".bin"))
    assert size == 2 * d["splits"][s]["tokens"], s
    assert d["splits"][s]["tunes"] > 0, s
    h = hashlib.sha256(open(os.path.join(out, s + ".bin"), "rb").read()).hexdigest()
    assert h == d["files"][s]["sha256"], s
split_of_group = {}
seen = set()
rows = collections.Counter()
for line in list(open(os.path.join(out, "splits.tsv")))[1:]:
    split, group, source, index, chars = line.rstrip("\n").split("\t")
    assert split_of_group.setdefault(group, split) == split, ("group in two splits", group)
    assert (source, index) not in seen, ("tune twice", source, index)
    seen.add((source, index))
    rows[split] += 1
for s in ("train", "val", "test"):
    assert rows[s] == d["splits"][s]["tunes"], s
vocab = json.load(open(os.path.join(out, "vocab.json")))
assert vocab["tokens"][:4] == ["<PAD>", "<UNK>", "<SOS>", "<EOS>"]
assert len(vocab["tokens"]) == d["vocab_size"]
PY
grep -q "read $expected_tunes" "$tmp/report.txt" && grep -q "vocab" "$tmp/report.txt" \
  && ok "report shows tunes read and vocab" || bad "report: $(cat "$tmp/report.txt")"
before=$(stat -c %Y.%s "$out/dataset.json"; sha256sum "$out/train.bin")
"$TS" data prepare --input "$SRC/bench/data" --out "$out" >"$tmp/report2.txt"
after=$(stat -c %Y.%s "$out/dataset.json"; sha256sum "$out/train.bin")
grep -q "served from cache" "$tmp/report2.txt" && [ "$before" = "$after" ] \
  && ok "second identical run is served from the cache" || bad "cache: $(cat "$tmp/report2.txt")"
"$TS" data prepare --input "$SRC/bench/data" --out "$out" --json >"$tmp/cached.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["cached"] is True' \
  "$tmp/cached.json" && ok "--json prints one JSON document with cached=true" || bad "--json"
"$TS" data prepare --input "$SRC/bench/data" --out "$out" --seed 7 -q
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["options"]["seed"]==7' \
  "$out/dataset.json" && ok "changed options rebuild the dataset" || bad "rebuild on new seed"

# --- bad input: one line on stderr, non-zero exit, nothing left behind -------------------
expect_error() { # name, out dir that must not appear, command...
  local name=$1 dir=$2
  shift 2
  local rc=0
  "$@" >"$tmp/o.txt" 2>"$tmp/e.txt" || rc=$?
  local lines
  lines=$(wc -l <"$tmp/e.txt")
  if [ "$rc" -ne 0 ] && [ "$lines" -eq 1 ] && grep -q '^tunescale' "$tmp/e.txt" && [ ! -e "$dir" ] \
     && [ ! -s "$tmp/o.txt" ]; then
    ok "$name -> exit $rc: $(cat "$tmp/e.txt")"
  else
    bad "$name (rc=$rc, $lines stderr lines, out exists: $([ -e "$dir" ] && echo yes || echo no)): $(cat "$tmp/e.txt")"
  fi
}
expect_error "missing path" "$tmp/o1" "$TS" data prepare --input "$tmp/nope" --out "$tmp/o1"
mkdir "$tmp/empty"
expect_error "empty folder" "$tmp/o2" "$TS" data prepare --input "$tmp/empty" --out "$tmp/o2"
head -c 65536 /dev/urandom >"$tmp/noise.abc"
printf '\0\0\0' >>"$tmp/noise.abc"
expect_error "binary file" "$tmp/o3" "$TS" data prepare --input "$tmp/noise.abc" --out "$tmp/o3"
mkdir "$tmp/z"
printf 'X:1\nT:A tune\nM:4/4\nL:1/8\nK:G\n%s\n' "$(printf 'GABc dedB|%.0s' $(seq 1 20))" >"$tmp/z/t.abc"
(cd "$tmp/z" && python3 -c 'import zipfile; z=zipfile.ZipFile("full.zip","w",zipfile.ZIP_DEFLATED); [z.write("t.abc", "t%d.abc"%i) for i in range(50)]; z.close()')
size=$(stat -c %s "$tmp/z/full.zip")
head -c $((size / 2)) "$tmp/z/full.zip" >"$tmp/truncated.zip"
expect_error "truncated zip" "$tmp/o4" "$TS" data prepare --input "$tmp/truncated.zip" --out "$tmp/o4"
echo '{"tune_id": 1, "abc": "GABc|"}' >"$tmp/object.json"
expect_error "JSON that is not an array" "$tmp/o5" "$TS" data prepare --input "$tmp/object.json" --out "$tmp/o5"
touch "$tmp/a-file"
expect_error "unwritable --out" "$tmp/a-file/sub" "$TS" data prepare --input "$tmp/z/t.abc" --out "$tmp/a-file/sub"
expect_error "unknown flag" "$tmp/o6" "$TS" data prepare --bogus --out "$tmp/o6"
expect_error "missing --out" "$tmp/o7" "$TS" data prepare --input "$tmp/z/t.abc"
expect_error "--clean with a bad value" "$tmp/o8" "$TS" data prepare --clean fancy --out "$tmp/o8"
# A failing re-run must not disturb a dataset that is already there.
sum_before=$(cat "$out"/* | sha256sum)
rc=0; "$TS" data prepare --input "$tmp/truncated.zip" --out "$out" 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] && [ "$(cat "$out"/* | sha256sum)" = "$sum_before" ] && [ -z "$(ls -A "$out" | grep staging || true)" ] \
  && ok "a failed run leaves an existing dataset untouched" || bad "failed run changed $out"

# --- the named source with a restrictive licence -----------------------------------------
rc=0; "$TS" data prepare --input thesession --out "$tmp/ts" >/dev/null 2>"$tmp/e.txt" || rc=$?
[ "$rc" -ne 0 ] && grep -q -- "--accept-license" "$tmp/e.txt" && grep -qi "licen" "$tmp/e.txt" && [ ! -e "$tmp/ts" ] \
  && ok "thesession refuses without --accept-license and shows its terms" || bad "thesession refusal"

finish
