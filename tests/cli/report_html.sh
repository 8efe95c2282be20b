#!/usr/bin/env bash
# report_html.sh — `tunescale report --html` rendered by a real browser (headless Debian
# chromium): the page loads without a console error and without touching the network, every
# plot has a non-empty box, and the run and fit tables hold the numbers of the result files.
# Skipped without chromium unless TS_REQUIRE_CHROMIUM=1. TS_HTML_BREAK=plot|value breaks the
# page on purpose before it is rendered (the check that the check can fail).
source "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_unless_required TS_REQUIRE_CHROMIUM "no chromium (apt-get install chromium)"

# Five transformer sizes on L = 5*N^-0.076 + 0.8 with a training curve each; one run's MFU is
# 147.6% (an error in the data, shown as such).
python3 - "$tmp/set" <<'PY'
import json, os, sys
root = sys.argv[1]
for i, n in enumerate([1e5, 3e5, 1e6, 3e6, 1e7]):
    d = os.path.join(root, "runs", "cpu", "t%d" % i)
    os.makedirs(d)
    loss = 5 * n ** -0.076 + 0.8
    json.dump({"schema": "tunescale.run/1", "status": "ok", "tunescale": {"commit": "abc123"},
               "device": {"backend": "cpu", "name": "test cpu", "peak_gflops": 100.0},
               "model": {"name": "transformer-%g" % n, "family": "transformer", "params": n,
                         "params_non_embedding": n * 0.9},
               "val_loss": loss, "tokens": 262144, "tokens_per_s": 1000 * (i + 1),
               "achieved_gflops": 10, "mfu": 1.476 if i == 2 else 0.1 * (i + 1),
               "peak_memory_bytes": n * 16,
               "curve": {"columns": ["step", "tokens", "train_loss", "lr", "grad_norm"],
                         "points": [[s, s * 1e4, loss + 2 / s, 1e-3, 1] for s in range(1, 40)]}},
              open(os.path.join(d, "result.json"), "w"))
PY
"$TS" report "$tmp/set" --html --bootstrap 100 >"$tmp/out" 2>"$tmp/err" || die "report --html: $(cat "$tmp/err")"
html=$tmp/set/report.html
[ -s "$html" ] || die "no report.html"
grep -q "report.html" "$tmp/out" || die "the report does not point at report.html: $(cat "$tmp/out")"
! grep -Eqi '<script|<link|src="https?:|href="https?:|@import|url\(' "$html" || die "report.html is not self-contained"
ok "report.html written, self-contained (no script, link, remote source)"

case ${TS_HTML_BREAK:-} in
  plot) sed -i 's|src="data:image/svg+xml;base64,[A-Za-z0-9+/]\{40\}|src="data:image/svg+xml;base64,AAAA|' "$html" ;;
  value) sed -i '0,/<td data-k="val_loss">[0-9.]*</s||<td data-k="val_loss">9.9999<|' "$html" ;;
esac
cp "$html" "$tmp/check.html"
sed -i 's|</body></html>|<script>'"$(grep -v '^//' "$SRC/tests/html/check.js" | tr '\n' ' ' | sed 's/[&|]/\\&/g')"'</script></body></html>|' "$tmp/check.html"

# --virtual-time-budget lets the page finish loading (images decoded) before the DOM is dumped
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 --virtual-time-budget=10000 \
  --window-size=412,915 --dump-dom "file://$tmp/check.html" >"$tmp/dom.html" 2>"$tmp/chromium.log" ||
  die "chromium failed: $(tail -5 "$tmp/chromium.log")"

python3 - "$tmp/dom.html" "$tmp/chromium.log" "$tmp/set" <<'PY' || die "the rendered report is wrong"
import glob, html, json, math, re, sys
dom, log, root = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3]
m = re.search(r'<pre id="ts-check">(.*?)</pre>', dom, re.S)
assert m, "the in-page check did not run"
c = json.loads(html.unescape(m.group(1)))
errors = [l for l in log.splitlines() if "CONSOLE" in l or "Uncaught" in l]
assert not errors, "console messages: %s" % errors
assert not [r for r in c["resources"] if not r.startswith("data:")], c["resources"]
want = {"val_loss_vs_params", "perplexity_vs_params", "train_loss_vs_tokens_cpu", "tokens_per_s"}
got = {p["name"] for p in c["plots"]}
assert got == want, "plots %s, expected %s" % (sorted(got), sorted(want))
for p in c["plots"]:
    assert p["complete"] and p["natural"] > 0 and p["width"] > 100 and p["height"] > 100, p
assert c["counts"] == {"runs": "5", "ok": "5", "invalid": "0"}, c["counts"]
runs = {r["model"]: r for r in c["tables"]["run-table"]}
for f in glob.glob(root + "/runs/cpu/*/result.json"):
    r = json.load(open(f))
    row = runs[r["model"]["name"]]
    assert row["val_loss"] == "%.4f" % r["val_loss"], (row, r["val_loss"])
    assert row["val_perplexity"] == "%.3f" % math.exp(r["val_loss"]), row
    mfu = "%.1f%%" % (r["mfu"] * 100) + (" data error" if r["mfu"] > 1 else "")
    assert row["mfu"] == mfu, (row["mfu"], mfu)
fit = [f for f in c["tables"]["fit-table"] if f["n"] == "params"][0]
assert abs(float(fit["alpha"]) - 0.076) < 1e-3 and fit["sizes"] == "5", fit
lo, hi = (float(x) for x in fit["alpha_ci95"].strip("[]").split(","))
assert lo <= float(fit["alpha"]) <= hi, fit
print("plots:", ", ".join("%s %dx%d" % (p["name"], p["width"], p["height"]) for p in c["plots"]))
PY
ok "chromium renders it: 4 plots with a box, no console error, no request, tables match the result files"
finish
