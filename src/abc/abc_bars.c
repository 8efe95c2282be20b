/* abc_bars.c — bar lengths against the meter: bars_total / bars_consistent and a warning for
 * each bar of the wrong length.
 *
 * A bar is counted when it holds music and M: gives its length. A short bar is fine where
 * ABC writes incomplete bars on purpose: the first (pickup), the last, and bars next to repeat
 * signs, endings and double bars (the pickup and the ending add up to one bar). */
#include <stdio.h>
#include <stdlib.h>

#include "abc/abc_parse_internal.h"

static void push_bar(abc_parser *p, const abc_bar_rec *r) {
    if (p->n_bars == p->cap_bars) {
        size_t cap = p->cap_bars ? p->cap_bars * 2 : 64;
        abc_bar_rec *b = realloc(p->bars, cap * sizeof *b);
        if (!b) {
            p->t->oom = 1;
            return;
        }
        p->bars = b, p->cap_bars = cap;
    }
    p->bars[p->n_bars++] = *r;
}

void abc_bar_close(abc_parser *p, int flags, size_t pos, int at_end) {
    abc_voice *v = &p->v[p->cur];
    abc_tune *t = p->t;
    if (v->bar_has_music) {
        abc_bar_rec r = {0};
        r.dur = (abc_rat){0, 1};
        for (size_t k = v->bar_ev0; k < t->n; k++)
            if (t->ev[k].voice == p->cur && t->ev[k].kind != ABC_EV_BAR)
                r.dur = abc_rat_add(r.dur, t->ev[k].advance);
        r.meter = v->meter;
        r.open_flags = v->bar_open_flags;
        r.close_flags = flags;
        r.multirest = v->bar_multirest;
        r.closed = !at_end;
        r.voice = p->cur;
        r.line = at_end ? (v->bar_line ? v->bar_line : p->line_no) : p->line_no;
        r.col = at_end ? (v->bar_line ? v->bar_col : 1) : abc_col(p, pos);
        r.meter_num = v->meter_num;
        push_bar(p, &r);
        v->bars_seen++;
        v->bar_open_flags = flags;
    } else {
        v->bar_open_flags |= flags; /* "|" then "[1", or ":|" then "|:" */
        if (p->n_bars && p->bars[p->n_bars - 1].voice == p->cur)
            p->bars[p->n_bars - 1].close_flags |= flags;
    }
    v->bar_has_music = 0;
    v->bar_multirest = 0;
    v->have_grp = 0;
    abc_voice_reset_bar(v);
    if (at_end) return;
    abc_event *ev = abc_push_event(p, ABC_EV_BAR, pos);
    if (ev) ev->flags = (uint16_t)flags;
    v->bar_ev0 = t->n;
    v->bar_line = p->line_no;
    v->bar_col = abc_col(p, pos);
}

void abc_bars_finish(abc_parser *p) {
    abc_tune *t = p->t;
    const int edge = ABC_B_REPEAT_START | ABC_B_REPEAT_END | ABC_B_DOUBLE | ABC_B_ENDING;
    for (int vi = 0; vi < p->n_voices; vi++) {
        size_t first = (size_t)-1, last = 0;
        for (size_t k = 0; k < p->n_bars; k++)
            if (p->bars[k].voice == vi) {
                if (first == (size_t)-1) first = k;
                last = k;
            }
        if (first == (size_t)-1) continue;
        int bar_no = 0;
        for (size_t k = first; k <= last; k++) {
            const abc_bar_rec *r = &p->bars[k];
            if (r->voice != vi) continue;
            bar_no++;
            if (r->multirest || !r->meter.n) continue;
            t->bars_total++;
            int c = abc_rat_cmp(r->dur, r->meter);
            int allowed_short =
                k == first || k == last || (r->open_flags & edge) || (r->close_flags & edge);
            if (c == 0 || (c < 0 && allowed_short)) {
                t->bars_consistent++;
                continue;
            }
            /* M: as written: 4/4 is 1/1 once reduced */
            long long mn = r->meter_num > 0 ? r->meter_num : r->meter.n;
            long long md = r->meter_num > 0 ? r->meter.d * r->meter_num / r->meter.n : r->meter.d;
            abc_diag_at(p, r->line, r->col, 0,
                        "bar %d lasts %lld/%lld, M:%lld/%lld wants %lld/%lld", bar_no,
                        (long long)r->dur.n, (long long)r->dur.d, mn, md, (long long)r->meter.n,
                        (long long)r->meter.d);
        }
    }
}
