#!/usr/bin/env python3
"""bench_abc.py — the ABC checker and MIDI converter on real-world collections, per collection.

usage: bench_abc.py TUNESCALE DIR... [--jobs N] [--show N] [--json OUT]

Each DIR is one collection (its *.abc files, recursively). Every tune is written to its own file,
checked with `tunescale abc check --json` and converted with `tunescale abc midi`; abc2midi
(-NGRA -NGUI -NFER, the convention tests/abc/compare_abc2midi.py explains) converts it too.
Per collection it prints: tunes, valid, valid with warnings, invalid; "abc2midi ok" (abc2midi
wrote a file and printed no "Error" line other than an unknown
I: or %% directive), accepted among those; MIDI identical (of all tunes,
and of those abc2midi read without error). --show N prints N example differences and N invalid
verdicts per collection.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "abc"))
import compare_abc2midi as cmp  # noqa: E402


def collection_tunes(d):
    out = []
    for root, _dirs, files in os.walk(d):
        for fn in sorted(files):
            if fn.lower().endswith(".abc"):
                with open(os.path.join(root, fn), encoding="utf-8", errors="replace") as fh:
                    text = fh.read().replace("\r\n", "\n")
                out += [(fn, t) for t in cmp.split_tunes(text) if t.startswith("X:")]
    return out


def run_collection(ts, abc2midi, d, jobs, show):
    tmp = tempfile.mkdtemp(prefix="ts_abc_bench_")
    try:
        tunes = collection_tunes(d)
        names = []
        for k, (_fn, t) in enumerate(tunes):
            name = f"t{k:05d}"
            with open(os.path.join(tmp, name + ".abc"), "w", encoding="utf-8") as out:
                out.write(t)
            names.append(name)
        paths = [os.path.join(tmp, n + ".abc") for n in names]
        verdict = {}
        for i in range(0, len(paths), 500):  # keep the command line short
            r = subprocess.run([ts, "abc", "check", "--json"] + paths[i:i + 500],
                               capture_output=True, text=True)
            for t in json.loads(r.stdout)["tunes"]:
                verdict[os.path.basename(t["file"])[:-4]] = t
        ours_dir, theirs_dir = os.path.join(tmp, "ours"), os.path.join(tmp, "abc2midi")
        os.makedirs(theirs_dir)
        for i in range(0, len(paths), 500):
            subprocess.run([ts, "abc", "midi", "--quiet", "--out", ours_dir] + paths[i:i + 500],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def a2m(name):
            try:
                r = subprocess.run([abc2midi, os.path.join(tmp, name + ".abc"), "-o",
                                    os.path.join(theirs_dir, name + ".mid"), "-NGRA", "-NGUI",
                                    "-NFER"], capture_output=True, text=True, timeout=60,
                                   errors="replace")
                # abc2midi calls an I: or %% directive it does not know an "Error" yet reads
                # on; any other Error line means it could not read the tune as written
                lines = (r.stdout + r.stderr).split("\n")
                return not [x for x in lines if "Error" in x and "not recognized" not in x]
            except subprocess.TimeoutExpired:
                return False

        with ThreadPoolExecutor(jobs) as ex:
            a2m_ok = dict(zip(names, ex.map(a2m, names)))
        ours = {}
        for fn in os.listdir(ours_dir) if os.path.isdir(ours_dir) else []:
            ours[fn.split("_", 1)[0]] = os.path.join(ours_dir, fn)
        row = dict(tunes=len(names), valid=0, warnings=0, invalid=0, a2m_ok=0, accepted_a2m=0,
                   identical=0, identical_a2m=0)
        shown_diff = shown_inv = 0
        for name, (fn, t) in zip(names, tunes):
            v = verdict.get(name, {}).get("verdict", "invalid")
            row[v] += 1
            ok = a2m_ok[name] and os.path.exists(os.path.join(theirs_dir, name + ".mid"))
            row["a2m_ok"] += ok
            row["accepted_a2m"] += ok and v != "invalid"
            theirs = os.path.join(theirs_dir, name + ".mid")
            if name not in ours or not os.path.exists(theirs):
                why = "no MIDI file"
            else:
                try:
                    why = cmp.compare(cmp.norm(ours[name]), cmp.norm(theirs))
                except (ValueError, IndexError) as e:
                    why = f"unreadable MIDI: {e}"
            row["identical"] += why is None
            row["identical_a2m"] += why is None and ok
            head = t[:t.find("\n")]
            if why and ok and shown_diff < show:
                shown_diff += 1
                print(f"  diff {fn} {head}: {why}")
            if v == "invalid" and ok and shown_inv < show:
                shown_inv += 1
                errs = [x for x in verdict[name]["diagnostics"] if x["severity"] == "error"]
                print(f"  invalid {fn} {head}: {errs[0]['message'] if errs else '?'}")
        return row
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pct(a, b):
    return f"{100.0 * a / b:.1f}%" if b else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tunescale")
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--json", help="also write the table here as JSON")
    args = ap.parse_args()
    abc2midi = shutil.which("abc2midi")
    if not abc2midi:
        print("bench_abc: abc2midi is not installed (apt-get install abcmidi)", file=sys.stderr)
        return 1
    rows = {}
    for d in args.dirs:
        name = os.path.basename(os.path.normpath(d))
        print(f"{name}:", flush=True)
        rows[name] = run_collection(args.tunescale, abc2midi, d, args.jobs, args.show)
    tot = {k: sum(r[k] for r in rows.values()) for k in next(iter(rows.values()))}
    rows_all = dict(rows, total=tot)
    print()
    print("| collection | tunes | valid | valid with warnings | invalid | abc2midi reads | "
          "accepted where abc2midi reads | MIDI identical | identical where abc2midi reads |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in rows_all.items():
        print(f"| {name} | {r['tunes']} | {r['valid']} | {r['warnings']} | {r['invalid']} | "
              f"{r['a2m_ok']} | {r['accepted_a2m']} ({pct(r['accepted_a2m'], r['a2m_ok'])}) | "
              f"{r['identical']} ({pct(r['identical'], r['tunes'])}) | "
              f"{r['identical_a2m']} ({pct(r['identical_a2m'], r['a2m_ok'])}) |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows_all, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
