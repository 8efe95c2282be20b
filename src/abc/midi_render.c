/* midi_render.c — plays a parsed tune into timed notes: repeats and endings expanded, ties
 * joined, staccato, T (trill) and ~ (roll) ornamented the way abc2midi plays them, so the two
 * converters can be compared note for note.
 *
 * abc2midi's conventions followed here (observed from its output, version 4.84):
 *  - ":|" without "|:" repeats from the tune's start or from the end of the last finished
 *    repeat; "||" does not start a section;
 *  - "|1,2 ... :|3": a section repeats until its highest ending has played;
 *  - a chord sounds for its first note's length; staccato halves a single note;
 *  - T alternates the upper neighbour and the note in pieces of a 1/16 note, halved until a
 *    piece lasts at most 0.1 s at the header's tempo (1/32 notes at 120 a minute; at least two);
 *  - ~ plays the upper neighbour for a quarter of L: then the note, except on a note written
 *    with length 3, which becomes note, upper, note, lower, note (1/3, 1/12, 1/4, 1/12, 1/4).
 * Grace notes and chord symbols are not played (abc2midi -NGRA -NGUI). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abc/abc_internal.h"

typedef struct {
    abc_midi_note *v;
    size_t n, cap;
    int oom;
    int64_t trill_piece; /* ticks of one trill note at the tune's tempo */
} note_list;

static abc_midi_note *add_note(note_list *l, int voice, int pitch, int64_t on, int64_t off) {
    if (off <= on) return NULL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        abc_midi_note *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = 1;
            return NULL;
        }
        l->v = v, l->cap = cap;
    }
    abc_midi_note *n = &l->v[l->n++];
    n->voice = voice, n->pitch = pitch, n->on = on, n->off = off;
    return n;
}

/* Notes tied forward, waiting for the next note of the same pitch. */
typedef struct {
    size_t note; /* index in the list */
    int pitch;
    abc_rat end;
} open_tie;

static void play_note(note_list *l, const abc_event *e, int voice, abc_rat at, open_tie *ties,
                      int *n_ties) {
    abc_rat end = abc_rat_add(at, e->dur);
    /* continue a tie: same pitch, ending where this one starts */
    for (int k = 0; k < *n_ties; k++) {
        if (ties[k].pitch != e->pitch || abc_rat_cmp(ties[k].end, at) != 0) continue;
        l->v[ties[k].note].off = abc_rat_ticks(end);
        if (e->flags & ABC_N_TIE) {
            ties[k].end = end;
        } else {
            ties[k] = ties[--*n_ties];
        }
        return;
    }
    int64_t on = abc_rat_ticks(at), off = abc_rat_ticks(end);
    int single = !(e->flags & ABC_N_CHORD);
    if (single && (e->flags & ABC_N_TRILL) && !(e->flags & ABC_N_TIE)) {
        int64_t n = (off - on) / l->trill_piece;
        if (n < 2) n = 2;
        for (int64_t i = 0; i < n; i++) {
            abc_rat a = abc_rat_add(at, abc_rat_mul(e->dur, abc_rat_make(i, n)));
            abc_rat b = abc_rat_add(at, abc_rat_mul(e->dur, abc_rat_make(i + 1, n)));
            add_note(l, voice, i % 2 ? e->pitch : e->upper, abc_rat_ticks(a), abc_rat_ticks(b));
        }
        return;
    }
    if (single && (e->flags & ABC_N_ROLL) && !(e->flags & ABC_N_TIE)) {
        if (e->flags & ABC_N_LEN3) {
            static const int64_t parts[5][2] = {{1, 3}, {1, 12}, {1, 4}, {1, 12}, {1, 4}};
            int pitches[5] = {e->pitch, e->upper, e->pitch, e->lower, e->pitch};
            abc_rat a = at;
            for (int i = 0; i < 5; i++) {
                abc_rat b =
                    abc_rat_add(a, abc_rat_mul(e->dur, abc_rat_make(parts[i][0], parts[i][1])));
                add_note(l, voice, pitches[i], abc_rat_ticks(a), abc_rat_ticks(b));
                a = b;
            }
            return;
        }
        abc_rat g = abc_rat_mul(e->unit, abc_rat_make(1, 4));
        if (abc_rat_cmp(g, e->dur) < 0) {
            abc_rat mid = abc_rat_add(at, g);
            add_note(l, voice, e->upper, on, abc_rat_ticks(mid));
            add_note(l, voice, e->pitch, abc_rat_ticks(mid), off);
            return;
        }
    }
    if (single && (e->flags & ABC_N_STACCATO) && !(e->flags & ABC_N_TIE))
        off = abc_rat_ticks(abc_rat_add(at, abc_rat_mul(e->dur, abc_rat_make(1, 2))));
    add_note(l, voice, e->pitch, on, off);
    if ((e->flags & ABC_N_TIE) && *n_ties < 64 && !l->oom) {
        ties[*n_ties].note = l->n - 1;
        ties[*n_ties].pitch = e->pitch;
        ties[*n_ties].end = end;
        ++*n_ties;
    }
}

/* The highest ending number from bar index `from` to the section's end. */
static int last_ending(const abc_tune *t, const size_t *idx, size_t m, size_t from) {
    int hi = 0;
    for (size_t k = from; k < m; k++) {
        const abc_event *e = &t->ev[idx[k]];
        if (e->kind != ABC_EV_BAR) continue;
        if (k > from && (e->flags & ABC_B_REPEAT_START)) break;
        if (e->flags & ABC_B_ENDING)
            for (int b = 31; b >= 0; b--)
                if (e->endings & (1u << b)) {
                    if (b + 1 > hi) hi = b + 1;
                    break;
                }
    }
    return hi;
}

/* What carries over from one stretch of the tune to the next: time, open ties, work done. */
typedef struct {
    note_list *l;
    int voice;
    open_tie ties[64];
    int n_ties;
    abc_rat now;
    size_t steps, max_steps; /* a safety cap on the events visited, repeats included */
} play_state;

/* Plays idx[from..to): repeats and endings are expanded within the stretch. */
static void play_span(const abc_tune *t, const size_t *idx, size_t from, size_t to,
                      play_state *st) {
    note_list *l = st->l;
    size_t pos = from, start = from;
    int pass = 1, skipping = 0, ended = 0, sticky = 0;
    size_t steps = 0, max_steps = 8 * (to - from) + 64; /* repeats at most ×4 per section */
    while (pos < to && steps++ < max_steps && st->steps++ < st->max_steps && !l->oom) {
        const abc_event *e = &t->ev[idx[pos]];
        if (e->kind != ABC_EV_BAR) {
            if (!skipping) {
                if (e->kind == ABC_EV_NOTE) {
                    /* ties not continued by now are over */
                    for (int k = 0; k < st->n_ties;)
                        if (abc_rat_cmp(st->ties[k].end, st->now) < 0)
                            st->ties[k] = st->ties[--st->n_ties];
                        else
                            k++;
                    play_note(l, e, st->voice, st->now, st->ties, &st->n_ties);
                }
                st->now = abc_rat_add(st->now, e->advance);
            }
            pos++;
            continue;
        }
        int f = e->flags;
        if (skipping) {
            if ((f & ABC_B_ENDING) && (e->endings & (1u << ((pass - 1) & 31)))) {
                skipping = 0; /* our ending: enter it, its ":|" belongs to the one before */
                ended = 1;
                sticky = 1;
                pos++;
                continue;
            }
            if (!(f & (ABC_B_REPEAT_START | ABC_B_DOUBLE)) || (f & ABC_B_ENDING)) {
                pos++;
                continue;
            }
            skipping = 0; /* no ending for this pass: the section ends here */
            if (f & ABC_B_REPEAT_START) start = pos + 1;
            pos++;
            continue;
        }
        if (f & ABC_B_REPEAT_END) {
            int passes = last_ending(t, idx, to, start);
            if (passes < 2) passes = 2;
            if (ended) {
                /* abc2midi: a ":|" after a last ending, with no "|:" between, repeats the
                 * whole section once more with every ending skipped */
                ended = 0;
                pass = passes + 1;
                sticky = 1;
                pos = start;
                continue;
            }
            if (pass < passes) {
                pass++;
                pos = start;
                continue;
            }
            /* once a later ending has played, or after such a replay, abc2midi keeps the pass
             * count: later ":|" without "|:" do not repeat, later endings play only where
             * they name that pass */
            if (!sticky) pass = 1;
            start = pos + 1;
        }
        if (f & ABC_B_REPEAT_START) {
            start = pos + 1;
            pass = 1;
            ended = 0;
        }
        if ((f & ABC_B_ENDING) && !(e->endings & (1u << ((pass - 1) & 31)))) skipping = 1;
        pos++;
    }
}

/* With a header P: (abc2midi's reading): what comes before the first body P: plays once, then
 * each part of the header's order, a part being the music from its last P: label to the next
 * label; parts never labelled are skipped. Repeats do not reach across part labels. */
static void render_voice(const abc_tune *t, int voice, note_list *l, int64_t *end_tick) {
    size_t m = 0;
    size_t *idx = malloc((t->n + 1) * sizeof *idx);
    play_state *st = calloc(1, sizeof *st);
    if (!idx || !st) {
        free(idx);
        free(st);
        l->oom = 1;
        return;
    }
    size_t first_part = SIZE_MAX;
    for (size_t k = 0; k < t->n; k++) {
        const abc_event *e = &t->ev[k];
        if (e->kind == ABC_EV_PART && t->n_parts > 0) {
            if (first_part == SIZE_MAX) first_part = m;
            idx[m++] = k;
        } else if (e->voice == voice && e->kind != ABC_EV_TEMPO && e->kind != ABC_EV_PART) {
            idx[m++] = k;
        }
    }
    st->l = l;
    st->voice = voice;
    st->now = (abc_rat){0, 1};
    st->max_steps = 64 * (m + 64) + 8 * (size_t)t->n_parts * (m + 8);
    if (first_part == SIZE_MAX) {
        play_span(t, idx, 0, m, st);
    } else {
        play_span(t, idx, 0, first_part, st);
        for (int p = 0; p < t->n_parts && !l->oom; p++) {
            size_t at = SIZE_MAX; /* the part's last label */
            for (size_t k = first_part; k < m; k++)
                if (t->ev[idx[k]].kind == ABC_EV_PART && t->ev[idx[k]].letter == t->parts[p])
                    at = k;
            if (at == SIZE_MAX) continue;
            size_t to = at + 1;
            while (to < m && t->ev[idx[to]].kind != ABC_EV_PART)
                to++;
            play_span(t, idx, at + 1, to, st);
        }
    }
    int64_t end = abc_rat_ticks(st->now);
    if (end > *end_tick) *end_tick = end;
    free(st);
    free(idx);
}

static int note_cmp(const void *a, const void *b) {
    const abc_midi_note *x = a, *y = b;
    if (x->voice != y->voice) return x->voice - y->voice;
    if (x->on != y->on) return x->on < y->on ? -1 : 1;
    return x->pitch - y->pitch;
}

abc_midi_note *abc_render(const abc_tune *t, size_t *n, int64_t *end_tick, int *oom) {
    note_list l = {0};
    /* abc2midi halves a 1/16 note (120 ticks) until it lasts at most 100000 us */
    l.trill_piece = 120;
    while (l.trill_piece > 1 && l.trill_piece * t->tempo > 100000LL * 480)
        l.trill_piece /= 2;
    *end_tick = 0;
    for (int v = 0; v < t->n_voices && !l.oom; v++)
        render_voice(t, v, &l, end_tick);
    *oom = l.oom;
    if (l.oom || !l.n) {
        free(l.v);
        *n = 0;
        return NULL;
    }
    for (size_t k = 0; k < l.n; k++)
        if (l.v[k].off > *end_tick) *end_tick = l.v[k].off;
    qsort(l.v, l.n, sizeof *l.v, note_cmp);
    *n = l.n;
    return l.v;
}
