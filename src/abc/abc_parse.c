/* abc_parse.c — one tune, line by line: where it starts and ends, its header, body fields and
 * voices; music lines go to abc_music.c.
 *
 * A tune starts at its first "X:" line (or at the start of the text when there is none) and ends
 * at the first empty line or the next "X:". The text is untrusted: every read is bounded. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "abc/abc_parse_internal.h"

/* ---- diagnostics and events ------------------------------------------------------------------ */

int abc_col(abc_parser *p, size_t pos) {
    size_t i = p->line_start;
    int col = 1;
    if (p->col_line == p->line_start && p->col_val > 0 && p->col_pos <= pos)
        i = p->col_pos, col = p->col_val; /* go on from the last answer */
    for (; i < pos && i < p->len; i++)
        if (((unsigned char)p->s[i] & 0xC0) != 0x80) col++; /* count UTF-8 characters */
    p->col_line = p->line_start, p->col_pos = i, p->col_val = col;
    return col;
}

static void vdiag(abc_parser *p, int line, int col, int is_error, const char *ext, const char *fmt,
                  va_list ap) {
    abc_tune *t = p->t;
    if (is_error)
        t->n_errors++;
    else
        t->n_warnings++;
    if (ext) t->n_extensions++;
    if (t->n_diag >= ABC_MAX_DIAGS) return;
    if (t->n_diag == t->cap_diag) {
        int cap = t->cap_diag ? t->cap_diag * 2 : 16;
        ts_abc_diag *d = realloc(t->diag, (size_t)cap * sizeof *d);
        if (!d) {
            t->oom = 1;
            return;
        }
        t->diag = d, t->cap_diag = cap;
    }
    ts_abc_diag *d = &t->diag[t->n_diag++];
    d->line = line, d->column = col, d->is_error = is_error;
    snprintf(d->extension, sizeof d->extension, "%s", ext ? ext : "");
    vsnprintf(d->message, sizeof d->message, fmt, ap);
}

void abc_diag(abc_parser *p, size_t pos, int is_error, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vdiag(p, p->line_no, abc_col(p, pos), is_error, NULL, fmt, ap);
    va_end(ap);
}

void abc_ext(abc_parser *p, size_t pos, const char *ext, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vdiag(p, p->line_no, abc_col(p, pos), 0, ext, fmt, ap);
    va_end(ap);
}

void abc_diag_at(abc_parser *p, int line, int col, int is_error, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vdiag(p, line, col, is_error, NULL, fmt, ap);
    va_end(ap);
}

abc_event *abc_push_event(abc_parser *p, int kind, size_t pos) {
    abc_tune *t = p->t;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        abc_event *e = realloc(t->ev, cap * sizeof *e);
        if (!e) {
            t->oom = 1;
            return NULL;
        }
        t->ev = e, t->cap = cap;
    }
    abc_event *e = &t->ev[t->n++];
    memset(e, 0, sizeof *e);
    e->kind = (uint8_t)kind;
    e->voice = (uint8_t)p->cur;
    e->dur = e->advance = (abc_rat){0, 1};
    e->line = p->line_no;
    e->col = abc_col(p, pos);
    return e;
}

/* ---- voices ---------------------------------------------------------------------------------- */

void abc_voice_reset_bar(abc_voice *v) {
    memset(v->bar_acc, 127, sizeof v->bar_acc);
    memset(v->bar_acc_oct, 127, sizeof v->bar_acc_oct);
}

static void voice_init(abc_parser *p, abc_voice *v, const char *id, size_t idlen) {
    memset(v, 0, sizeof *v);
    snprintf(v->id, sizeof v->id, "%.*s", (int)(idlen < 31 ? idlen : 31), id);
    v->key = p->hdr_key;
    v->unit = p->hdr_unit;
    v->meter = p->hdr_meter;
    v->meter_num = p->hdr_meter_num;
    v->bar_dur = (abc_rat){0, 1};
    v->broken_next = (abc_rat){0, 1};
    abc_voice_reset_bar(v);
}

/* V:id ... switches to (or declares) a voice; the rest of the value (clef, name=) is ignored. */
static void voice_field(abc_parser *p, size_t b, size_t e, size_t pos) {
    while (b < e && (p->s[b] == ' ' || p->s[b] == '\t'))
        b++;
    size_t w = b;
    while (w < e && !isspace((unsigned char)p->s[w]) && p->s[w] != ']')
        w++;
    if (w == b) {
        abc_diag(p, pos, 0, "V: without a voice name");
        return;
    }
    size_t idlen = w - b < 31 ? w - b : 31;
    for (int i = 0; i < p->n_voices; i++) {
        if (strlen(p->v[i].id) == idlen && !strncmp(p->v[i].id, p->s + b, idlen)) {
            p->cur = i;
            return;
        }
    }
    if (p->n_voices == ABC_MAX_VOICES) {
        abc_diag(p, pos, 0, "more than %d voices: '%.*s' shares the last one", ABC_MAX_VOICES,
                 (int)idlen, p->s + b);
        p->cur = ABC_MAX_VOICES - 1;
        return;
    }
    /* the implicit first voice becomes this one if it has no music yet */
    if (p->n_voices == 1 && !p->v[0].id[0] && !p->v[0].bars_seen && !p->v[0].bar_has_music) {
        snprintf(p->v[0].id, sizeof p->v[0].id, "%.*s", (int)idlen, p->s + b);
        p->cur = 0;
        return;
    }
    voice_init(p, &p->v[p->n_voices], p->s + b, idlen);
    p->cur = p->n_voices++;
}

/* ---- fields ---------------------------------------------------------------------------------- */

static abc_rat default_unit(abc_rat meter) {
    /* ABC 2.1: 1/16 when the meter is below 3/4, else 1/8 */
    if (meter.n && abc_rat_cmp(meter, abc_rat_make(3, 4)) < 0) return abc_rat_make(1, 16);
    return abc_rat_make(1, 8);
}

/* K:, M:, L:, Q: and V: work in the header and in the body; the header sets the defaults. */
static void music_field(abc_parser *p, char letter, size_t b, size_t e, size_t pos, int hdr) {
    abc_voice *v = &p->v[p->cur];
    const char *s = p->s + b;
    size_t n = e - b;
    char warn[96];
    switch (letter) {
    case 'K': {
        abc_key k;
        if (!abc_parse_key(s, n, &k, warn, sizeof warn)) {
            abc_diag(p, pos, 1, "bad K: value '%.*s'", (int)(n > 40 ? 40 : n), s);
            return;
        }
        if (warn[0]) abc_diag(p, pos, 0, "%s", warn);
        if (hdr) {
            p->hdr_key = k;
            p->t->key_sharps = k.sharps;
            const char *m = s;
            while (m < s + n && (*m == ' ' || isupper((unsigned char)*m) || *m == '#' || *m == 'b'))
                m++;
            p->t->key_minor = m < s + n && (*m == 'm' || *m == 'M') &&
                              (m + 1 >= s + n || !isalpha((unsigned char)m[1]) ||
                               tolower((unsigned char)m[1]) == 'i');
        }
        v->key = k;
        break;
    }
    case 'M': {
        abc_rat m;
        int num, den;
        if (!abc_parse_meter(s, n, &m, &num, &den)) {
            abc_diag(p, pos, 0, "unreadable M: value '%.*s' ignored", (int)(n > 40 ? 40 : n), s);
            return;
        }
        if (hdr) {
            p->hdr_meter = m, p->hdr_meter_num = num;
            p->t->meter_num = num, p->t->meter_den = den;
            p->saw_meter = 1;
            if (!p->hdr_unit_set) p->hdr_unit = default_unit(m);
        }
        v->meter = m, v->meter_num = num;
        break;
    }
    case 'L': {
        abc_rat u;
        if (!abc_parse_unit(s, n, &u)) {
            abc_diag(p, pos, 0, "unreadable L: value '%.*s' ignored", (int)(n > 40 ? 40 : n), s);
            return;
        }
        if (hdr) p->hdr_unit = u, p->hdr_unit_set = 1;
        v->unit = u;
        break;
    }
    case 'Q': {
        long us;
        if (!abc_parse_tempo(s, n, v->unit, &us)) {
            abc_diag(p, pos, 0, "unreadable Q: value '%.*s' ignored", (int)(n > 40 ? 40 : n), s);
            return;
        }
        if (hdr) {
            p->t->tempo = us;
        } else {
            abc_event *ev = abc_push_event(p, ABC_EV_TEMPO, pos);
            if (ev) ev->tempo = us;
        }
        break;
    }
    case 'V':
        voice_field(p, b, e, pos);
        break;
    }
}

void abc_body_field(abc_parser *p, char letter, size_t b, size_t e, size_t pos) {
    if (strchr("KMLQV", letter)) {
        music_field(p, letter, b, e, pos, 0);
    } else if (letter == 'P') {
        /* a part label: its first character names the part ("P:A1", "P:B (slow)") */
        while (b < e && (p->s[b] == ' ' || p->s[b] == '\t'))
            b++;
        abc_event *ev = b < e ? abc_push_event(p, ABC_EV_PART, pos) : NULL;
        if (ev) ev->letter = (int8_t)(p->s[b] & 0x7F);
    } else if (letter == 'U') {
        /* U:T = !trill!: the letter becomes a decoration */
        size_t i = b;
        while (i < e && p->s[i] == ' ')
            i++;
        if (i < e && (unsigned char)p->s[i] < 128) p->user_syms[(unsigned char)p->s[i]] = 1;
    } else if (!strchr("wWTPNRCOAZDBFGHISrmsI+", letter)) {
        abc_diag(p, pos, 0, "unknown field '%c:' in the tune body", letter);
    }
}

/* Field lines: a letter, ':' and not a bar line ("A:|" is music). */
static int is_field_line(const char *s, size_t b, size_t e) {
    if (e - b < 2 || s[b + 1] != ':' || !isalpha((unsigned char)s[b])) return 0;
    if (b + 2 < e && (s[b + 2] == '|' || s[b + 2] == ':')) return 0;
    return 1;
}

static int blank_line(const char *s, size_t b, size_t e) {
    for (size_t i = b; i < e; i++)
        if (!isspace((unsigned char)s[i])) return 0;
    return 1;
}

/* Free text that lost its field letter (an N: note running over several lines): a run of four
 * or more letters, outside quotes, !...! and a trailing % comment, with at least two that are
 * not note letters. */
static int looks_like_prose(const char *s, size_t b, size_t e) {
    int run = 0, odd = 0;
    char q = 0;
    for (size_t i = b; i < e; i++) {
        char c = s[i];
        if (q) {
            if (c == q) q = 0;
            continue;
        }
        if (c == '"' || c == '!') {
            q = c;
            run = odd = 0;
            continue;
        }
        if (c == '%') break; /* a comment ends the line's music */
        if (isalpha((unsigned char)c) || ((unsigned char)c >= 0x80)) {
            run++;
            odd += !strchr("ABCDEFGabcdefg", c);
            if (run >= 4 && odd >= 2) return 1;
        } else {
            run = odd = 0;
        }
    }
    return 0;
}

static void directive(abc_parser *p, size_t b, size_t e) {
    static const char key[] = "%%propagate-accidentals";
    size_t kl = sizeof key - 1;
    if (e - b > kl && !strncmp(p->s + b, key, kl)) {
        const char *v = p->s + b + kl;
        size_t n = e - b - kl;
        while (n && *v == ' ')
            v++, n--;
        if (n >= 3 && !strncmp(v, "not", 3)) p->propagate = 0;
        if (n >= 6 && !strncmp(v, "octave", 6)) p->propagate = 1;
        if (n >= 5 && !strncmp(v, "pitch", 5)) p->propagate = 2;
    }
}

/* ---- the tune -------------------------------------------------------------------------------- */

static void header_field(abc_parser *p, char letter, size_t b, size_t e, size_t pos) {
    if (letter == 'T' && !p->t->title[0]) {
        while (b < e && (p->s[b] == ' ' || p->s[b] == '\t'))
            b++;
        size_t n = e - b < sizeof p->t->title - 1 ? e - b : sizeof p->t->title - 1;
        memcpy(p->t->title, p->s + b, n);
        p->t->title[n] = '\0';
    }
    if (letter == 'P')
        p->t->n_parts = abc_expand_parts(p->s + b, e - b, p->t->parts, ABC_MAX_PARTS);
    if (letter == 'R') {
        while (b < e && p->s[b] == ' ')
            b++;
        p->t->hornpipe = e - b >= 8 && !strncasecmp(p->s + b, "hornpipe", 8);
    }
    if (strchr("KMLQV", letter)) {
        music_field(p, letter, b, e, pos, 1);
        if (letter == 'V' && p->n_voices > 1) p->cur = 0;
    } else if (letter == 'U') {
        abc_body_field(p, letter, b, e, pos);
    }
    if (letter == 'K') {
        p->in_body = p->saw_key = 1;
        p->t->has_key = 1;
        if (!p->saw_unit && !p->hdr_unit_set)
            abc_diag(p, pos, 0, "no L: field: unit note length %s by default",
                     p->hdr_unit.d == 16 ? "1/16" : "1/8");
        /* voices declared in the header start from the header's final key/unit/meter */
        for (int i = 0; i < p->n_voices; i++) {
            p->v[i].key = p->hdr_key, p->v[i].unit = p->hdr_unit;
            p->v[i].meter = p->hdr_meter, p->v[i].meter_num = p->hdr_meter_num;
        }
        p->cur = 0;
    }
}

/* Finds the tune: the first line starting "X:", else the text's start. */
static size_t tune_start(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        if (i + 1 < len && s[i] == 'X' && s[i + 1] == ':') return i;
        while (i < len && s[i] != '\n')
            i++;
        i++;
    }
    return 0;
}

/* Offset of the first "K:" line of the tune starting at i (before an empty line or the next
 * X:), or len when there is none. */
static size_t key_line(const char *s, size_t i, size_t len) {
    int first = 1;
    while (i < len) {
        size_t e = i;
        while (e < len && s[e] != '\n')
            e++;
        if (!first && (blank_line(s, i, e) || (e - i >= 2 && s[i] == 'X' && s[i + 1] == ':')))
            return len;
        if (e - i >= 2 && s[i] == 'K' && s[i + 1] == ':') return i;
        first = 0;
        i = e + 1;
    }
    return len;
}

static void parse_lines(abc_parser *p) {
    const char *s = p->s;
    size_t i = tune_start(s, p->len);
    /* line numbers count from the start of the text */
    for (size_t k = 0; k < i; k++)
        if (s[k] == '\n') p->line_no++;
    int first = 1, music_before_key = 0;
    char last_field = 0;      /* letter of the previous line's field, 0 after music */
    int comment_goes_on = 0;  /* the last line was a comment ending in '\\': this one is too */
    char text_block[16] = ""; /* inside %%begin<name> .. %%end<name>: its name */
    size_t key_at = key_line(s, i, p->len); /* the tune's first K: line; p->len when none */
    if (!(i + 1 < p->len && s[i] == 'X' && s[i + 1] == ':'))
        abc_diag_at(p, p->line_no, 1, 0, "no X: field: the tune has no reference number");
    while (i < p->len) {
        size_t b = i, e = i;
        while (e < p->len && s[e] != '\n')
            e++;
        i = e + 1;
        p->line_start = b;
        size_t ce = e;
        if (ce > b && s[ce - 1] == '\r') ce--;
        if (blank_line(s, b, ce)) {
            if (!first) break;
            p->line_no++;
            continue;
        }
        if (!first && ce - b >= 2 && s[b] == 'X' && s[b + 1] == ':') break; /* the next tune */
        first = 0;
        int continued = comment_goes_on;
        comment_goes_on = (s[b] == '%' || continued) && ce > b && s[ce - 1] == '\\';
        if (text_block[0]) {
            /* a %%begintext (abcm2ps: also ps, svg, ...) block holds no music */
            size_t n = strlen(text_block);
            if (ce - b >= 5 + n && !strncmp(s + b, "%%end", 5) &&
                !strncmp(s + b + 5, text_block, n))
                text_block[0] = '\0';
        } else if (continued) {
            /* the rest of a comment or directive continued with '\\' (abcm2ps reads them so) */
        } else if (s[b] == '%') {
            if (ce - b > 7 && !strncmp(s + b, "%%begin", 7)) {
                size_t n = 0;
                while (b + 7 + n < ce && n < sizeof text_block - 1 &&
                       isalpha((unsigned char)s[b + 7 + n]))
                    n++;
                memcpy(text_block, s + b + 7, n);
                text_block[n] = '\0';
            }
            if (ce - b >= 2 && s[b + 1] == '%') directive(p, b, ce);
        } else if (is_field_line(s, b, ce)) {
            char letter = s[b];
            if (!p->in_body)
                header_field(p, letter, b + 2, ce, b);
            else
                abc_body_field(p, letter, b + 2, ce, b);
            if (letter == 'L') p->saw_unit = 1;
            last_field = letter;
        } else if (last_field && !strchr("KMLQVXIU", last_field) &&
                   (!p->in_body || looks_like_prose(s, b, ce) ||
                    (!memchr(s + b, '|', ce - b) && !strchr("PT", last_field)))) {
            /* the header holds no music, so any such line there is run-on text; in the body,
             * music follows a P: or T: (a part or section label), bar lines or not */
            abc_diag(p, b, 0, "text line without a field letter, taken as part of %c:", last_field);
        } else if (!p->in_body && key_at < p->len && b < key_at) {
            /* a line without a field letter in a header that a K: line still ends: abcm2ps
             * and abc2midi skip it (often a field's value that lost its letter) */
            abc_ext(p, b, "header line without a field",
                    "line without a field letter in the "
                    "header ignored");
        } else if (!p->in_body) {
            if (!music_before_key)
                abc_diag(p, b, 1, "music before the K: field (K: must end the header)");
            music_before_key = 1;
            p->in_body = 1;
            abc_parse_music(p, b, ce);
        } else {
            abc_parse_music(p, b, ce);
            last_field = 0;
        }
        p->line_no++;
    }
    if (!p->saw_key && !music_before_key)
        abc_diag_at(p, p->line_no > 1 ? p->line_no - 1 : 1, 1, 1, "no K: field");
}

void abc_tune_free(abc_tune *t) {
    free(t->ev);
    free(t->diag);
    memset(t, 0, sizeof *t);
}

static int diag_cmp(const void *a, const void *b) {
    const ts_abc_diag *x = a, *y = b;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    return (x->column > y->column) - (x->column < y->column);
}

int abc_parse_tune(const char *text, size_t len, abc_tune *t) {
    memset(t, 0, sizeof *t);
    abc_parser *p = calloc(1, sizeof *p);
    if (!p) return -1;
    p->s = text ? text : "";
    p->len = text ? len : 0;
    p->t = t;
    p->line_no = 1;
    p->propagate = 2;
    p->hdr_meter = (abc_rat){0, 1};
    p->hdr_unit = abc_rat_make(1, 8);
    t->tempo = 500000; /* 120 quarter notes a minute, as abc2midi */
    voice_init(p, &p->v[0], "", 0);
    p->n_voices = 1;
    parse_lines(p);
    /* close what is still open at the end */
    for (int vi = 0; vi < p->n_voices; vi++) {
        p->cur = vi;
        abc_voice *v = &p->v[vi];
        abc_bar_close(p, 0, p->line_start, 1);
        if (v->tup_left > 0)
            abc_diag_at(p, v->tup_line, v->tup_col, 1,
                        "tuplet (%d is missing %d note%s at the end of the tune", v->tup_p,
                        v->tup_left, v->tup_left == 1 ? "" : "s");
        if (v->broken_next.n)
            abc_diag_at(p, v->broken_line, v->broken_col, 0,
                        "broken rhythm at the end of the tune has no second note");
    }
    if (p->slur_depth > 0) abc_diag_at(p, p->slur_line, p->slur_col, 0, "slur '(' never closed");
    abc_bars_finish(p);
    t->n_voices = p->n_voices;
    free(p->bars);
    free(p);
    if (t->n_diag > 1) qsort(t->diag, (size_t)t->n_diag, sizeof *t->diag, diag_cmp);
    if (t->oom) {
        abc_tune_free(t);
        return -1;
    }
    return 0;
}
