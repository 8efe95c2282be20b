#!/usr/bin/env python3
"""compare_abc2midi.py — converts every tune of ABC files with tunescale and with abc2midi and
compares the notes (pitch, onset tick, duration ticks).

usage: compare_abc2midi.py TUNESCALE ABC... [--min-rate PCT] [--show N] [--jobs N]

abc2midi runs with -NGRA -NGUI -NFER (no grace notes, no chord-symbol accompaniment, no fermata
lengthening), which is what
tunescale plays. Both write 480 ticks per quarter; other divisions are rescaled. abc2midi starts
each note one tick late and spreads a chord's notes 10 ticks apart (ends are exact), so its
onsets may be 1 + 10*k ticks after ours, k < the chord's size; pitch and end must be equal.
Exit 1 when the share of identical tunes is below --min-rate.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smf  # noqa: E402


def split_tunes(text):
    """Tunes start at lines beginning 'X:'; a file without one is one tune."""
    lines = text.split("\n")
    starts = [i for i, l in enumerate(lines) if l.startswith("X:")]
    if not starts:
        return [text]
    starts.append(len(lines))
    return ["\n".join(lines[a:b]) + "\n" for a, b in zip(starts, starts[1:])]


def norm(path):
    div, notes = smf.notes(path)
    k = 480 / div
    return [(p, round(on * k), round((on + d) * k)) for (_t, _c, p, on, d) in notes]


def compare(ours, theirs):
    """None when equal, else a short description of the first difference."""
    if len(ours) != len(theirs):
        return f"note count {len(ours)} vs abc2midi {len(theirs)}"
    a = sorted(ours, key=lambda n: (n[2], n[0], n[1]))
    b = sorted(theirs, key=lambda n: (n[2], n[0], n[1]))
    chord = {}
    for p, on, end in ours:
        chord[on] = chord.get(on, 0) + 1
    for (p1, on1, e1), (p2, on2, e2) in zip(a, b):
        slack = 10 * (chord.get(on1, 1) - 1) + 1
        if p1 != p2 or e1 != e2 or not (0 <= on2 - on1 <= slack):
            return f"first difference: ours pitch {p1} {on1}..{e1}, abc2midi pitch {p2} {on2}..{e2}"
    return None


def category(tune, why):
    """A rough cause, from what the tune uses."""
    body = tune.split("\nK:", 1)[-1]
    if why.startswith("abc2midi"):
        return "abc2midi wrote nothing"
    if why.startswith("tunescale"):
        return "tunescale wrote nothing"
    checks = [
        ("multiple voices (V:)", r"(^|\n)V:|\[V:"),
        ("inline field changes", r"\[[KLMQ]:"),
        ("ties in chords", r"\[[^\]]*-[^\]]*\]|\]-"),
        ("endings / repeats", r"\|[1-9]|\[[1-9]|::|:\|"),
        ("ornaments (T ~)", r"[T~]"),
        ("chords", r"\[[A-Ga-g^_=]"),
        ("tuplets", r"\([2-9]"),
        ("broken rhythm", r"[<>]"),
    ]
    for name, rx in checks:
        if re.search(rx, body):
            return name
    return "other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tunescale")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--min-rate", type=float, default=0.0)
    ap.add_argument("--show", type=int, default=0, help="print N mismatching tunes")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    abc2midi = shutil.which("abc2midi")
    if not abc2midi:
        print("SKIP: abc2midi is not installed (apt-get install abcmidi)")
        return 0
    tmp = tempfile.mkdtemp(prefix="ts_abc_cmp_")
    try:
        tunes = []
        for f in args.files:
            with open(f, encoding="utf-8", errors="replace") as fh:
                for t in split_tunes(fh.read()):
                    name = f"t{len(tunes):05d}"
                    with open(os.path.join(tmp, name + ".abc"), "w", encoding="utf-8") as out:
                        out.write(t)
                    tunes.append((name, f, t))
        ours_dir, theirs_dir = os.path.join(tmp, "ours"), os.path.join(tmp, "abc2midi")
        os.makedirs(theirs_dir)
        subprocess.run([args.tunescale, "abc", "midi", "--quiet", "--out", ours_dir]
                       + [os.path.join(tmp, n + ".abc") for n, _, _ in tunes],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def run_abc2midi(name):
            subprocess.run([abc2midi, os.path.join(tmp, name + ".abc"), "-o",
                            os.path.join(theirs_dir, name + ".mid"), "-NGRA", "-NGUI", "-NFER", "-silent"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

        with ThreadPoolExecutor(args.jobs) as ex:
            list(ex.map(run_abc2midi, [n for n, _, _ in tunes]))
        ours_files = {}
        for fn in os.listdir(ours_dir) if os.path.isdir(ours_dir) else []:
            ours_files[fn.split("_", 1)[0]] = os.path.join(ours_dir, fn)
        same, causes, shown = 0, {}, 0
        for name, f, t in tunes:
            theirs = os.path.join(theirs_dir, name + ".mid")
            if name not in ours_files:
                why = "tunescale wrote no MIDI file"
            elif not os.path.exists(theirs):
                why = "abc2midi wrote no MIDI file"
            else:
                why = compare(norm(ours_files[name]), norm(theirs))
            if why is None:
                same += 1
                continue
            cat = category(t, why)
            causes[cat] = causes.get(cat, 0) + 1
            if shown < args.show:
                shown += 1
                title = re.search(r"(^|\n)T:(.*)", t)
                print(f"--- {f} X:{t[2:t.find(chr(10))].strip()} "
                      f"{title.group(2).strip() if title else ''} [{cat}] {why}")
        n = len(tunes)
        rate = 100.0 * same / n if n else 0.0
        print(f"tunes {n}: identical notes {same} ({rate:.2f}%), different {n - same}")
        for cat, k in sorted(causes.items(), key=lambda kv: -kv[1]):
            print(f"  {k:5d}  {cat}")
        if rate < args.min_rate:
            print(f"FAIL: agreement {rate:.2f}% is below {args.min_rate}%")
            return 1
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
