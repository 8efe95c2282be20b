# record.sh — sourced by check.sh and large.sh: one deadline for a lease, and `record`, which runs
# a command under the time left and appends its JSON stdout to $jsonl under a tag.
# Needs: out (the output folder), jsonl (the record file), ts_gpu_name (for messages).
deadline=$((SECONDS + ${TS_GPU_DEADLINE:-480}))
left() { echo $((deadline - SECONDS)); }

record() { # tag timeout command...
  local tag=$1 limit=$2
  shift 2
  if [ "$(left)" -lt 15 ]; then echo "$ts_gpu_name: $tag skipped (deadline)"; return; fi
  [ "$limit" -gt "$(left)" ] && limit=$(left)
  local t0=$SECONDS doc
  doc=$(timeout "$limit" "$@" 2>"$out/stderr.tmp")
  local rc=$?
  python3 - "$tag" "$rc" "$((SECONDS - t0))" "$doc" "$(tail -n 3 "$out/stderr.tmp")" >>"$jsonl" <<'PY'
import json, sys
tag, rc, secs, doc, err = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
try:
    value = json.loads(doc) if doc.strip() else None
except ValueError:
    value = doc[-2000:]
print(json.dumps({"tag": tag, "rc": rc, "seconds": secs, "result": value,
                  "stderr": err if rc else ""}))
PY
  echo "$ts_gpu_name: $tag rc=$rc in $((SECONDS - t0)) s"
  [ "$rc" != 0 ] && tail -n 3 "$out/stderr.tmp"
}
