#!/usr/bin/env bash
# commands.sh — the command-line contract: every subcommand answers --help, unimplemented ones
# and every command run without its required arguments exits 2 with a usage hint, --version names
# the git commit, bad usage exits 2.
source "$(dirname "$0")/lib.sh"
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

for c in devices data params train sweep report compare bench sample eval finalize abc tune; do
  check "$c --help exits 0 with a usage line" "\"$TS\" $c --help 2>&1 | grep -qi usage"
done
for c in data train sweep report compare bench sample eval finalize abc tune; do
  rc=0; msg=$("$TS" "$c" 2>&1 >/dev/null) || rc=$?
  check "$c without arguments exits 2 with a hint" "[ $rc -eq 2 ] && grep -qiE 'usage|required|--help|which' <<<\"\$msg\""
done
commit=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
check "--version names the git commit" "\"$TS\" --version | grep -q \"${commit:0:7}\""
rc=0; "$TS" frobnicate 2>/dev/null || rc=$?
check "unknown command exits 2" "[ $rc -eq 2 ]"
rc=0; "$TS" 2>/dev/null || rc=$?
check "no command exits 2" "[ $rc -eq 2 ]"
out=$("$TS" params)
for n in 851,812 4,855,908 19,148,900 57,054,820 126,431,332 1,103,972 4,304,996 16,998,500 38,080,612 101,122,148; do
  check "params prints $n" "grep -q ' $n ' <<<\"\$out\""
done
check "params --json is one JSON document" "\"$TS\" params --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==10 and d[0][\"params\"]==851812'"
check "--help lists the commands" "\"$TS\" --help | grep -q sweep"
finish
