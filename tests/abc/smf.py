"""smf.py — a tiny Standard MIDI File reader: the notes of every track, for comparing converters.

notes(path) -> (division, [(track, channel, pitch, onset_tick, duration_ticks), ...]) sorted by
onset, then pitch. Only note on/off matter here; meta and sysex events are skipped by length.
"""
import struct


def _varlen(data, i):
    v = 0
    while True:
        b = data[i]
        i += 1
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            return v, i


def notes(path):
    data = open(path, "rb").read()
    if data[:4] != b"MThd":
        raise ValueError(f"{path}: not a MIDI file")
    hlen, _fmt, ntrk, division = struct.unpack(">IHHH", data[4:14])
    i = 8 + hlen
    out = []
    for trk in range(ntrk):
        if data[i:i + 4] != b"MTrk":
            raise ValueError(f"{path}: track {trk} has no MTrk")
        (tlen,) = struct.unpack(">I", data[i + 4:i + 8])
        j, end, t, status = i + 8, i + 8 + tlen, 0, 0
        active = {}
        while j < end:
            dt, j = _varlen(data, j)
            t += dt
            if data[j] & 0x80:
                status = data[j]
                j += 1
            if status == 0xFF:
                j += 1
                ln, j = _varlen(data, j)
                j += ln
                continue
            if status in (0xF0, 0xF7):
                ln, j = _varlen(data, j)
                j += ln
                continue
            kind, ch = status & 0xF0, status & 0x0F
            if kind in (0xC0, 0xD0):
                j += 1
                continue
            a, b = data[j], data[j + 1]
            j += 2
            if kind == 0x90 and b > 0:
                active.setdefault((ch, a), []).append(t)
            elif kind == 0x80 or (kind == 0x90 and b == 0):
                starts = active.get((ch, a))
                if starts:
                    s = starts.pop(0)
                    out.append((trk, ch, a, s, t - s))
        i = end
    out.sort(key=lambda n: (n[3], n[2], n[0]))
    return division, out


if __name__ == "__main__":
    import sys

    div, ns = notes(sys.argv[1])
    print("division", div)
    for n in ns:
        print(*n)
