/* midi_swing.c — abc2midi's hornpipe swing: in a tune whose R: starts with "hornpipe", a pair
 * of eighth notes starting on a quarter-note beat is played long-short, 2:1.
 *
 * Applied to the events after checking (bar lengths are checked as written) and before
 * rendering. Pairs are two single notes or chords of exactly 1/8 each; rests, tuplets and
 * broken rhythm (whose lengths are not 1/8) are left alone. */
#include "abc/abc_internal.h"

/* Start and end (exclusive) of the note group at event k: a note, or a chord's notes. */
static size_t group_end(const abc_tune *t, size_t k, int voice) {
    if (!(t->ev[k].flags & ABC_N_CHORD)) return k + 1;
    size_t j = k;
    while (j < t->n && t->ev[j].voice == voice && t->ev[j].kind == ABC_EV_NOTE &&
           !(t->ev[j].flags & ABC_N_CHORD_END))
        j++;
    return j < t->n ? j + 1 : t->n;
}

static void scale(abc_tune *t, size_t a, size_t b, abc_rat f) {
    for (size_t k = a; k < b; k++) {
        t->ev[k].dur = abc_rat_mul(t->ev[k].dur, f);
        t->ev[k].advance = abc_rat_mul(t->ev[k].advance, f);
    }
}

void abc_hornpipe_swing(abc_tune *t) {
    const abc_rat eighth = abc_rat_make(1, 8);
    for (int v = 0; v < t->n_voices; v++) {
        abc_rat pos = {0, 1};
        size_t prev0 = 0, prev1 = 0;
        int have_prev = 0;
        for (size_t k = 0; k < t->n;) {
            abc_event *e = &t->ev[k];
            if (e->voice != v) {
                k++;
                continue;
            }
            if (e->kind == ABC_EV_BAR) {
                pos = (abc_rat){0, 1};
                have_prev = 0;
                k++;
                continue;
            }
            if (e->kind != ABC_EV_NOTE) {
                pos = abc_rat_add(pos, e->advance);
                have_prev = 0;
                k++;
                continue;
            }
            size_t end = group_end(t, k, v);
            abc_rat adv = t->ev[end - 1].advance;
            int is_eighth = abc_rat_cmp(adv, eighth) == 0;
            if (have_prev && is_eighth) {
                scale(t, prev0, prev1, abc_rat_make(4, 3));
                scale(t, k, end, abc_rat_make(2, 3));
                have_prev = 0;
            } else {
                /* a pair may start here: an eighth on a beat */
                abc_rat q = abc_rat_mul(pos, abc_rat_make(4, 1));
                have_prev = is_eighth && q.d == 1;
                prev0 = k, prev1 = end;
            }
            pos = abc_rat_add(pos, adv);
            k = end;
        }
    }
}
