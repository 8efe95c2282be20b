#!/usr/bin/env bash
# abc_check.sh — `tunescale abc check`: at least 99% of the bundled corpus is valid or valid with
# warnings, diagnostics read FILE:line:col, --json is one document, and the exit codes are
# 0 (no invalid tune), 1 (an invalid tune) and 2 (usage).
source "$(dirname "$0")/lib.sh"

rc=0
"$TS" abc check "$SRC"/bench/data/*.abc --json >"$tmp/corpus.json" || rc=$?
[[ $rc -le 1 ]] || die "abc check on the corpus exited $rc"
python3 - "$tmp/corpus.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
pct = t["accepted_pct"]
print(f"corpus: {t['tunes']} tunes, valid {t['valid']}, with warnings {t['warnings']}, "
      f"invalid {t['invalid']}: {pct:.2f}% accepted")
if t["tunes"] != 2815:
    sys.exit(f"FAIL: expected 2815 tunes, got {t['tunes']}")
if pct < 99.0:
    sys.exit(f"FAIL: only {pct:.2f}% of the corpus is accepted (want >= 99%)")
PY

printf 'X:1\nT:good\nM:4/4\nL:1/8\nK:G\nABcd efga|\n' >"$tmp/good.abc"
"$TS" abc check "$tmp/good.abc" >"$tmp/good.txt" || die "a valid tune exited $?"
grep -q "valid" "$tmp/good.txt" || die "no verdict printed"
printf 'X:1\nT:bad\nM:4/4\nL:1/8\nK:G\nABcd [efg|\n' >"$tmp/bad.abc"
rc=0
"$TS" abc check "$tmp/bad.abc" >"$tmp/bad.txt" || rc=$?
[[ $rc -eq 1 ]] || die "an invalid tune exited $rc, expected 1"
grep -q "bad.abc:6:6: error: unclosed chord" "$tmp/bad.txt" ||
    die "unexpected diagnostics: $(cat "$tmp/bad.txt")"
rc=0
"$TS" abc check >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || die "abc check without files exited $rc, expected 2"
rc=0
"$TS" abc check --bogus "$tmp/good.abc" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || die "abc check --bogus exited $rc, expected 2"
"$TS" abc --help | grep -q "abc check" || die "abc --help"
echo "abc_check: all checks passed"
