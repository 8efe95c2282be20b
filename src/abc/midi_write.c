/* midi_write.c — Standard MIDI File bytes: format 1, 480 ticks per quarter note (abc2midi's
 * division), a conductor track (title, tempo, meter, key) and one note track per voice on its
 * own channel (voice 1 on channel 1; the drum channel 10 is skipped). */
#include <stdlib.h>
#include <string.h>

#include "abc/abc_internal.h"

typedef struct {
    unsigned char *b;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *o, const void *p, size_t n) {
    if (o->oom) return;
    if (o->n + n > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        while (cap < o->n + n)
            cap *= 2;
        unsigned char *b = realloc(o->b, cap);
        if (!b) {
            o->oom = 1;
            return;
        }
        o->b = b, o->cap = cap;
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_byte(buf *o, int v) {
    unsigned char c = (unsigned char)v;
    put(o, &c, 1);
}

static void put_be(buf *o, uint32_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; i--)
        put_byte(o, (int)(v >> (8 * i)) & 0xFF);
}

static void put_varlen(buf *o, uint32_t v) {
    unsigned char tmp[5];
    int n = 0;
    tmp[n++] = v & 0x7F;
    while (v >>= 7)
        tmp[n++] = (unsigned char)(0x80 | (v & 0x7F));
    while (n--)
        put_byte(o, tmp[n]);
}

static uint32_t delta(int64_t now, int64_t *last) {
    int64_t d = now - *last;
    *last = now;
    return d < 0 ? 0 : d > 0x0FFFFFFF ? 0x0FFFFFFF : (uint32_t)d;
}

/* Writes the track's bytes with its MTrk header around them. */
static void put_track(buf *o, const buf *trk) {
    put(o, "MTrk", 4);
    put_be(o, (uint32_t)trk->n, 4);
    put(o, trk->b, trk->n);
}

typedef struct {
    int64_t t;
    int on, pitch;
} midi_ev;

static int ev_cmp(const void *a, const void *b) {
    const midi_ev *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    if (x->on != y->on) return x->on - y->on; /* offs first: a repeated pitch restarts cleanly */
    return x->pitch - y->pitch;
}

static void note_track(buf *o, const abc_midi_note *notes, size_t n, int voice, int64_t end) {
    buf trk = {0};
    size_t k = 0;
    midi_ev *ev = malloc((2 * n + 1) * sizeof *ev);
    if (!ev) {
        o->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (notes[i].voice != voice) continue;
        ev[k++] = (midi_ev){notes[i].on, 1, notes[i].pitch};
        ev[k++] = (midi_ev){notes[i].off, 0, notes[i].pitch};
    }
    qsort(ev, k, sizeof *ev, ev_cmp);
    int ch = voice < 9 ? voice : voice + 1 > 15 ? 15 : voice + 1;
    int64_t last = 0;
    for (size_t i = 0; i < k; i++) {
        put_varlen(&trk, delta(ev[i].t, &last));
        put_byte(&trk, (ev[i].on ? 0x90 : 0x80) | ch);
        put_byte(&trk, ev[i].pitch & 0x7F);
        put_byte(&trk, ev[i].on ? 80 : 0);
    }
    put_varlen(&trk, delta(end, &last));
    put(&trk, "\xFF\x2F\x00", 3);
    free(ev);
    if (trk.oom) o->oom = 1;
    put_track(o, &trk);
    free(trk.b);
}

static void conductor_track(buf *o, const abc_tune *t, int64_t end) {
    buf trk = {0};
    size_t tl = strlen(t->title);
    if (tl) {
        put(&trk, "\x00\xFF\x03", 3);
        put_varlen(&trk, (uint32_t)tl);
        put(&trk, t->title, tl);
    }
    put(&trk, "\x00\xFF\x51\x03", 4);
    put_be(&trk, (uint32_t)t->tempo, 3);
    if (t->meter_num > 0 && t->meter_den > 0) {
        int lg = 0;
        while ((1 << lg) < t->meter_den && lg < 7)
            lg++;
        put(&trk, "\x00\xFF\x58\x04", 4);
        put_byte(&trk, t->meter_num);
        put_byte(&trk, lg);
        put_byte(&trk, 24);
        put_byte(&trk, 8);
    }
    put(&trk, "\x00\xFF\x59\x02", 4);
    put_byte(&trk, t->key_sharps & 0xFF);
    put_byte(&trk, t->key_minor ? 1 : 0);
    int64_t last = 0;
    put_varlen(&trk, delta(end, &last));
    put(&trk, "\xFF\x2F\x00", 3);
    if (trk.oom) o->oom = 1;
    put_track(o, &trk);
    free(trk.b);
}

unsigned char *abc_smf_build(const abc_tune *t, const abc_midi_note *notes, size_t n,
                             int64_t end_tick, size_t *out_len) {
    buf o = {0};
    int voices = t->n_voices > 0 ? t->n_voices : 1;
    put(&o, "MThd", 4);
    put_be(&o, 6, 4);
    put_be(&o, 1, 2);                      /* format 1 */
    put_be(&o, (uint32_t)(1 + voices), 2); /* conductor + one track per voice */
    put_be(&o, 480, 2);
    conductor_track(&o, t, end_tick);
    for (int v = 0; v < voices; v++)
        note_track(&o, notes, n, v, end_tick);
    if (o.oom) {
        free(o.b);
        return NULL;
    }
    *out_len = o.n;
    return o.b;
}
