#!/usr/bin/env bash
# abc_midi.sh — `tunescale abc midi` against abc2midi on the whole bundled corpus: the share of
# tunes whose notes (pitch, onset, duration) are identical must stay at or above 98.5% (the
# issue's target is 98%; 98.79% reached, see tests/abc/compare_abc2midi.py for what is compared).
# Also checks the command's exit codes and that it writes one .mid per tune.
source "$(dirname "$0")/lib.sh"

printf 'X:3\nT:One\nM:2/4\nL:1/8\nK:G\n|: GABc :|\n\nX:4\nT:Two\nK:D\nDEFG|\n' >"$tmp/two.abc"
"$TS" abc midi "$tmp/two.abc" --out "$tmp/out" --json >"$tmp/midi.json" ||
    die "abc midi exited $?"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["totals"]["converted"]==2, d' \
    "$tmp/midi.json" || die "abc midi --json does not report 2 converted tunes"
[[ -s "$tmp/out/two_3.mid" && -s "$tmp/out/two_4.mid" ]] || die "two_3.mid / two_4.mid missing"
echo "ok: abc midi writes one file per tune"

rc=0
"$TS" abc midi "$tmp/two.abc" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || die "abc midi without --out exited $rc, expected 2"
printf 'X:1\nT:no key\nABC\n' >"$tmp/nokey.abc"
rc=0
"$TS" abc midi "$tmp/nokey.abc" --out "$tmp/out" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 1 ]] || die "abc midi of a tune without K: exited $rc, expected 1"
echo "ok: abc midi exit codes"

if ! command -v abc2midi >/dev/null; then
    echo "skip: abc2midi is not installed (apt-get install abcmidi)"
    exit 0
fi
python3 "$SRC/tests/abc/compare_abc2midi.py" "$TS" "$SRC"/bench/data/*.abc \
    --min-rate 98.5 --jobs 2 || die "agreement with abc2midi dropped"
echo "abc_midi: all checks passed"
