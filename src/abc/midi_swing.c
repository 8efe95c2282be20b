/* midi_swing.c — abc2midi's hornpipe swing: in a 4/4 tune whose R: starts with "hornpipe", a
 * pair of eighth notes starting on a quarter-note beat is played long-short, 2:1; in a 2/4
 * hornpipe, a pair of sixteenths starting on an eighth (abc2midi swings notes of 4/num 32nds).
 *
 * Applied to the events after checking (bar lengths are checked as written) and before
 * rendering. Pairs are two single notes or chords written as exactly 1/8 each, broken rhythm
 * aside: abc2midi swings "A>B" on a beat like "AB", and when one note of a broken pair is
 * swung, the other plays as written. Rests and tuplets are left alone. */
#include <stdlib.h>

#include "abc/abc_internal.h"

typedef struct {
    size_t a, b; /* events [a, b) */
    abc_rat pos; /* start in the bar, in written (unbroken) time */
    int eighth;  /* a note or chord written as 1/8 */
    int swing;   /* 0 none, 1 long, 2 short */
    int flags;   /* the first event's */
} swing_group;

/* The length before broken rhythm changed it. */
static abc_rat unbroken(abc_rat x, abc_rat broken) {
    return broken.n ? abc_rat_mul(x, abc_rat_make(broken.d, broken.n)) : x;
}

static void set_group(abc_tune *t, const swing_group *g, abc_rat f) {
    for (size_t k = g->a; k < g->b; k++) {
        abc_event *e = &t->ev[k];
        e->dur = abc_rat_mul(unbroken(e->dur, e->broken), f);
        e->advance = abc_rat_mul(unbroken(e->advance, e->broken), f);
        e->broken = (abc_rat){0, 1};
    }
}

static void swing_voice(abc_tune *t, int v, swing_group *g, abc_rat eighth) {
    size_t n = 0;
    abc_rat pos = {0, 1};
    for (size_t k = 0; k < t->n;) {
        const abc_event *e = &t->ev[k];
        if (e->voice != v ||
            (e->kind != ABC_EV_NOTE && e->kind != ABC_EV_REST && e->kind != ABC_EV_BAR)) {
            k++;
            continue;
        }
        if (e->kind == ABC_EV_BAR) {
            pos = (abc_rat){0, 1};
            g[n++] = (swing_group){k, k, pos, 0, 0, -1};
            k++;
            continue;
        }
        size_t end = k + 1;
        if (e->kind == ABC_EV_NOTE && (e->flags & ABC_N_CHORD))
            while (end < t->n && !(t->ev[end - 1].flags & ABC_N_CHORD_END) &&
                   t->ev[end].voice == v && t->ev[end].kind == ABC_EV_NOTE)
                end++;
        const abc_event *last = &t->ev[end - 1];
        abc_rat adv = unbroken(last->advance, last->broken);
        g[n++] = (swing_group){k, end,     pos, e->kind == ABC_EV_NOTE && !abc_rat_cmp(adv, eighth),
                               0, e->flags};
        pos = abc_rat_add(pos, adv);
        k = end;
    }
    /* pairs: an eighth (a sixteenth in 2/4) on a beat and the one after it */
    for (size_t i = 0; i + 1 < n; i++) {
        abc_rat q = abc_rat_mul(g[i].pos, abc_rat_make(eighth.d, 2 * eighth.n));
        if (g[i].eighth && g[i + 1].eighth && q.d == 1) {
            g[i].swing = 1, g[i + 1].swing = 2;
            i++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (g[i].flags < 0) continue;
        if (g[i].swing) {
            set_group(t, &g[i], abc_rat_make(g[i].swing == 1 ? 4 : 2, 3));
            continue;
        }
        /* a broken pair whose partner was swung plays as written */
        int partner_swung = ((g[i].flags & ABC_N_BROKEN_A) && i + 1 < n && g[i + 1].swing) ||
                            ((g[i].flags & ABC_N_BROKEN_B) && i > 0 && g[i - 1].swing);
        if (partner_swung) set_group(t, &g[i], abc_rat_make(1, 1));
    }
}

void abc_hornpipe_swing(abc_tune *t) {
    if (t->meter_den != 4 || (t->meter_num != 2 && t->meter_num != 4)) return;
    swing_group *g = malloc((t->n + 1) * sizeof *g);
    if (!g) return; /* left unswung */
    for (int v = 0; v < t->n_voices; v++)
        swing_voice(t, v, g, abc_rat_make(1, 8 * 4 / t->meter_num));
    free(g);
}
