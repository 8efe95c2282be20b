/* abc_music.c — the tokens of one music line: notes, rests, chords, grace groups, tuplets,
 * broken rhythm, ties, slurs, decorations, chord symbols, bar lines and inline fields.
 *
 * Each note becomes an event with its MIDI pitch and exact duration. Real tune books bend the
 * standard in many small ways; those are warnings. Errors are kept for text that cannot be
 * read as music: unclosed brackets, stray characters, accidentals without notes. */
#include <ctype.h>
#include <string.h>

#include "abc/abc_parse_internal.h"

#define AT(i) ((i) < e ? p->s[(i)] : '\0')

static int is_note_letter(char c) {
    return (c >= 'A' && c <= 'G') || (c >= 'a' && c <= 'g');
}
static int is_acc(char c) {
    return c == '^' || c == '_' || c == '=';
}

/* Pending decorations for the next note. */
typedef struct {
    int flags;
} deco_t;

/* Reads a length multiplier: "", "2", "/", "//", "/2", "3/2", "3/". Numbers are capped so
 * that nothing overflows; silly values are warned about. */
static abc_rat parse_length(abc_parser *p, size_t *pi, size_t e, int *three) {
    size_t i = *pi, start = i;
    int64_t num = 1, den = 1;
    int have_num = 0;
    if (isdigit((unsigned char)AT(i))) {
        num = 0;
        have_num = 1;
        while (isdigit((unsigned char)AT(i))) {
            if (num < 100000) num = num * 10 + (AT(i) - '0');
            i++;
        }
    }
    while (AT(i) == '/') {
        i++;
        if (isdigit((unsigned char)AT(i))) {
            int64_t d = 0;
            while (isdigit((unsigned char)AT(i))) {
                if (d < 100000) d = d * 10 + (AT(i) - '0');
                i++;
            }
            if (d == 0) {
                abc_diag(p, start, 1, "note length with a zero denominator");
                d = 1;
            }
            if (den < 100000) den *= d;
        } else if (den < 100000) {
            den *= 2;
        }
    }
    if (have_num && num == 0) {
        abc_diag(p, start, 0, "zero note length");
    } else if (num > 64 || den > 128) {
        abc_diag(p, start, 0, "unusual note length %lld/%lld", (long long)num, (long long)den);
    }
    if (num > 1024) num = 1024;
    if (den > 1024) den = 1024;
    if (three) *three = num == 3 && den == 1;
    *pi = i;
    return abc_rat_make(num, den);
}

/* MIDI pitch of a letter with accidentals and octave marks, in the voice's key and bar. */
static int note_pitch(abc_parser *p, abc_voice *v, int has_acc, int acc, char letter, int oct) {
    static const int semis[7] = {0, 2, 4, 5, 7, 9, 11};
    static const char *letters = "CDEFGAB";
    int li = (int)(strchr(letters, toupper((unsigned char)letter)) - letters);
    int base = 60 + semis[li] + (islower((unsigned char)letter) ? 12 : 0) + 12 * oct;
    int octi = base / 12;
    if (octi < 0) octi = 0;
    if (octi > 15) octi = 15;
    int shift;
    if (has_acc) {
        v->bar_acc[li] = (int8_t)acc;
        v->bar_acc_oct[li * 16 + octi] = (int8_t)acc;
        shift = acc;
    } else {
        for (int k = 0; k < v->n_tied; k++)
            if (v->tied_letter[k] == li && v->tied_oct[k] == base - semis[li])
                return v->tied_pitch[k];
        if (p->propagate == 2 && v->bar_acc[li] != 127)
            shift = v->bar_acc[li];
        else if (p->propagate == 1 && v->bar_acc_oct[li * 16 + octi] != 127)
            shift = v->bar_acc_oct[li * 16 + octi];
        else
            shift = v->key.none ? 0 : v->key.acc[li];
    }
    int pitch = base + shift;
    return pitch < 0 ? 0 : pitch > 127 ? 127 : pitch;
}

/* The notes a step above and below in the key signature (bar accidentals do not apply). */
static void neighbours(const abc_voice *v, char letter, int oct, abc_event *ev) {
    static const int semis[7] = {0, 2, 4, 5, 7, 9, 11};
    int li = (int)(strchr("CDEFGAB", toupper((unsigned char)letter)) - "CDEFGAB");
    int base = 60 + (islower((unsigned char)letter) ? 12 : 0) + 12 * oct;
    for (int dir = -1; dir <= 1; dir += 2) {
        int l = li + dir, b = base;
        if (l < 0) l = 6, b -= 12;
        if (l > 6) l = 0, b += 12;
        int pitch = b + semis[l] + (v->key.none ? 0 : v->key.acc[l]);
        pitch = pitch < 0 ? 0 : pitch > 127 ? 127 : pitch;
        if (dir < 0)
            ev->lower = (uint8_t)pitch;
        else
            ev->upper = (uint8_t)pitch;
    }
}

/* One note at s[*pi] (accidentals first). Pushes an event unless `grace`.
 * Returns 0 when there is no note letter after the accidentals (an error). */
static int parse_note(abc_parser *p, size_t *pi, size_t e, int grace, abc_rat *len, int *three) {
    abc_voice *v = &p->v[p->cur];
    size_t i = *pi, start = i;
    int has_acc = 0, acc = 0;
    if (AT(i) == '=') {
        has_acc = 1;
        i++;
    } else {
        while (i - start < 2 && (AT(i) == '^' || AT(i) == '_')) {
            acc += AT(i) == '^' ? 1 : -1;
            has_acc = 1;
            i++;
        }
    }
    if (has_acc && AT(i) != '=' && (isdigit((unsigned char)AT(i)) || AT(i) == '/')) {
        /* abc2midi's microtones ("_/e", "^3/4c"): a pitch bend on the note as written */
        size_t m = i;
        while (isdigit((unsigned char)AT(i)))
            i++;
        if (AT(i) == '/') i++;
        while (isdigit((unsigned char)AT(i)))
            i++;
        if (is_note_letter(AT(i))) {
            abc_ext(p, start, "microtone accidental",
                    "abc2midi microtone accidental '%.*s' played as the unbent note",
                    (int)(i - start), p->s + start);
            has_acc = 0;
        } else {
            i = m;
        }
    }
    char letter = AT(i);
    if (!is_note_letter(letter)) {
        abc_diag(p, start, 1, "accidental '%.*s' without a note", (int)(i - start), p->s + start);
        while (is_acc(AT(i)))
            i++;
        *pi = i;
        return 0;
    }
    i++;
    int oct = 0;
    while (AT(i) == '\'' || AT(i) == ',') {
        oct += AT(i) == '\'' ? 1 : -1;
        i++;
    }
    abc_rat mult = parse_length(p, &i, e, three);
    *pi = i;
    *len = mult;
    if (grace) return 1;
    abc_event *ev = abc_push_event(p, ABC_EV_NOTE, start);
    if (!ev) return 1;
    ev->pitch = note_pitch(p, v, has_acc, acc, letter, oct);
    ev->unit = v->unit;
    neighbours(v, letter, oct, ev);
    ev->dur = ev->advance = abc_rat_mul(v->unit, mult);
    /* remember letter and octave so a tie can carry the pitch into the next bar */
    ev->letter = (int8_t)(strchr("CDEFGAB", toupper((unsigned char)letter)) - "CDEFGAB");
    ev->written = (int16_t)(60 + 12 * oct + (islower((unsigned char)letter) ? 12 : 0));
    return 1;
}

/* ---- note groups: a note, a chord or a rest ----------------------------------------------------
 */

static void group_begin(abc_parser *p) {
    abc_voice *v = &p->v[p->cur];
    v->grp0 = p->t->n;
}

static void scale_group(abc_tune *t, size_t g0, size_t g1, abc_rat f) {
    for (size_t k = g0; k < g1 && k < t->n; k++) {
        t->ev[k].dur = abc_rat_mul(t->ev[k].dur, f);
        t->ev[k].advance = abc_rat_mul(t->ev[k].advance, f);
    }
}

static void group_end(abc_parser *p, int three) {
    abc_voice *v = &p->v[p->cur];
    abc_tune *t = p->t;
    v->grp1 = t->n;
    if (v->grp1 == v->grp0) return;
    v->have_grp = 1;
    v->grp_written_three = three;
    v->bar_has_music = 1;
    if (v->broken_next.n) {
        /* abc2midi: between two single notes (or rests) of different lengths, '>' and '<'
         * do nothing ("A>B/" plays as written); with a chord on either side they apply */
        size_t q0 = v->broken_p0, q1 = v->broken_p1;
        abc_rat before = q1 == q0 + 1 && q0 < t->n ? abc_rat_mul(t->ev[q0].dur, v->broken_undo)
                                                   : (abc_rat){0, 1};
        int ignore =
            q1 == q0 + 1 && v->grp1 == v->grp0 + 1 && !(t->ev[q0].flags & ABC_N_CHORD) &&
            !(t->ev[v->grp0].flags & ABC_N_CHORD) &&
            abc_rat_cmp(before, v->tup_left > 0 ? abc_rat_mul(t->ev[v->grp0].dur, v->tup_factor)
                                                : t->ev[v->grp0].dur);
        if (ignore) {
            scale_group(t, q0, q1, v->broken_undo);
        } else {
            scale_group(t, v->grp0, v->grp1, v->broken_next);
            /* remembered for the hornpipe swing, which may undo them */
            abc_rat first = abc_rat_make(v->broken_undo.d, v->broken_undo.n);
            for (size_t k = q0; k < q1 && k < t->n; k++)
                t->ev[k].broken = first, t->ev[k].flags |= ABC_N_BROKEN_A;
            for (size_t k = v->grp0; k < v->grp1; k++)
                t->ev[k].broken = v->broken_next, t->ev[k].flags |= ABC_N_BROKEN_B;
        }
        v->broken_next = (abc_rat){0, 1};
        v->grp_written_three = 0;
    }
    if (v->tup_left > 0) {
        scale_group(t, v->grp0, v->grp1, v->tup_factor);
        v->tup_left--;
        v->grp_written_three = 0;
    }
    /* this group consumed the previous one's ties ('-' records its own) */
    v->n_tied = 0;
    if (v->grp_written_three && v->grp1 == v->grp0 + 1 && t->ev[v->grp0].kind == ABC_EV_NOTE)
        t->ev[v->grp0].flags |= ABC_N_LEN3;
}

static void record_ties(abc_voice *v, abc_tune *t) {
    v->n_tied = 0;
    for (size_t k = v->grp0; k < v->grp1 && k < t->n; k++) {
        abc_event *ev = &t->ev[k];
        if (ev->kind != ABC_EV_NOTE || v->n_tied == 8) continue;
        ev->flags |= ABC_N_TIE;
        v->tied_pitch[v->n_tied] = ev->pitch;
        v->tied_letter[v->n_tied] = ev->letter;
        v->tied_oct[v->n_tied] = ev->written;
        v->n_tied++;
    }
}

/* ---- the pieces -------------------------------------------------------------------------------
 */

static int known_decoration(const char *s, size_t n) {
    static const char *names[] = {"trill",
                                  "trill(",
                                  "trill)",
                                  "lowermordent",
                                  "uppermordent",
                                  "mordent",
                                  "pralltriller",
                                  "roll",
                                  "turn",
                                  "turnx",
                                  "invertedturn",
                                  "invertedturnx",
                                  "arpeggio",
                                  ">",
                                  "accent",
                                  "emphasis",
                                  "fermata",
                                  "invertedfermata",
                                  "tenuto",
                                  "0",
                                  "1",
                                  "2",
                                  "3",
                                  "4",
                                  "5",
                                  "+",
                                  "plus",
                                  "snap",
                                  "slide",
                                  "wedge",
                                  "upbow",
                                  "downbow",
                                  "open",
                                  "thumb",
                                  "breath",
                                  "pppp",
                                  "ppp",
                                  "pp",
                                  "p",
                                  "mp",
                                  "mf",
                                  "f",
                                  "ff",
                                  "fff",
                                  "ffff",
                                  "sfz",
                                  "crescendo(",
                                  "<(",
                                  "crescendo)",
                                  "<)",
                                  "diminuendo(",
                                  ">(",
                                  "diminuendo)",
                                  ">)",
                                  "segno",
                                  "coda",
                                  "D.S.",
                                  "D.C.",
                                  "dacoda",
                                  "dacapo",
                                  "fine",
                                  "shortphrase",
                                  "mediumphrase",
                                  "longphrase",
                                  "ignore",
                                  "editorial",
                                  "courtesy",
                                  "dot",
                                  "staccato",
                                  "marcato",
                                  "^",
                                  "D.C.alcoda",
                                  "D.C.alfine",
                                  "D.S.alcoda",
                                  "D.S.alfine",
                                  "xstem",
                                  "beambr1",
                                  "beambr2",
                                  "beamon",
                                  "8va(",
                                  "8va)",
                                  "trem1",
                                  "trem2",
                                  "trem3",
                                  "trem4",
                                  "/",
                                  "//",
                                  "///",
                                  "////",
                                  "sfp",
                                  "fp",
                                  "sf",
                                  "rfz",
                                  "invisible",
                                  "wedge",
                                  "mark",
                                  "tie",
                                  "opend",
                                  "ped",
                                  "ped-up"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strlen(names[k]) == n && !strncmp(names[k], s, n)) return 1;
    return 0;
}

/* !name! or +name+; returns the flags it sets. */
static int decoration_flags(const char *s, size_t n) {
    /* abc2midi 4.x plays !trill! as T; !roll! stays plain (only ~ is a roll there) */
    if (n == 5 && !strncmp(s, "trill", 5)) return ABC_N_TRILL;
    return 0;
}

/* A bar line at s[*pi] ('|', ':', "[|", ".|"), with any ending number that follows. */
static void parse_bar(abc_parser *p, size_t *pi, size_t e) {
    size_t i = *pi, start = i;
    int lead = 0, trail = 0, pipes = 0, dbl = 0, flags = 0;
    if (AT(i) == '.') i++;
    if (AT(i) == '[' && AT(i + 1) == '|') {
        dbl = 1;
        i++;
    }
    while (AT(i) == ':' && !pipes)
        lead++, i++;
    while (AT(i) == '|' || (AT(i) == ']' && pipes) || (AT(i) == ':' && pipes)) {
        if (AT(i) == '|') {
            if (trail) break; /* "|:|" — the second | starts over */
            pipes++;
        } else if (AT(i) == ']') {
            dbl = 1;
            i++;
            break;
        } else {
            trail++;
        }
        i++;
    }
    if (!pipes && lead >= 2) {
        flags |= ABC_B_REPEAT_END | ABC_B_REPEAT_START; /* "::" */
    } else if (!pipes) {
        abc_diag(p, start, 0, "':' outside a bar line ignored");
        *pi = i > start ? i : start + 1;
        return;
    } else {
        if (lead) flags |= ABC_B_REPEAT_END;
        if (trail) flags |= ABC_B_REPEAT_START;
    }
    if (pipes >= 2 || dbl) flags |= ABC_B_DOUBLE;
    /* an ending: "|1", ":|2", "|[2", "|1,2", "|1-3" */
    size_t j = i;
    if (AT(j) == '[' && isdigit((unsigned char)AT(j + 1))) j++;
    if (isdigit((unsigned char)AT(j))) {
        uint32_t set = 0;
        int last = 0;
        while (isdigit((unsigned char)AT(j)) || AT(j) == ',' || AT(j) == '-') {
            if (isdigit((unsigned char)AT(j))) {
                int d = 0;
                while (isdigit((unsigned char)AT(j))) {
                    if (d < 100) d = d * 10 + AT(j) - '0';
                    j++;
                }
                if (d >= 1 && d <= 32) set |= 1u << (d - 1);
                last = d;
            } else if (AT(j) == '-' && isdigit((unsigned char)AT(j + 1))) {
                int d = AT(j + 1) - '0';
                for (int k = last + 1; k < d && k <= 32; k++)
                    set |= 1u << (k - 1);
                j++;
            } else {
                j++;
            }
        }
        if (set) flags |= ABC_B_ENDING;
        i = j;
        abc_bar_close(p, flags, start, 0);
        if (p->t->n && p->t->ev[p->t->n - 1].kind == ABC_EV_BAR)
            p->t->ev[p->t->n - 1].endings = set;
        *pi = i;
        return;
    }
    abc_bar_close(p, flags, start, 0);
    *pi = i;
}

/* "[1" or "[2" without a bar line before it (after a space): an ending on its own. */
static void parse_bracket_ending(abc_parser *p, size_t *pi, size_t e) {
    size_t i = *pi + 1, start = *pi;
    uint32_t set = 0;
    int last = 0;
    while (isdigit((unsigned char)AT(i)) || AT(i) == ',' || (AT(i) == '-' && last)) {
        if (isdigit((unsigned char)AT(i))) {
            int d = 0;
            while (isdigit((unsigned char)AT(i))) {
                if (d < 100) d = d * 10 + AT(i) - '0';
                i++;
            }
            if (d >= 1 && d <= 32) set |= 1u << (d - 1);
            last = d;
        } else if (AT(i) == '-' && isdigit((unsigned char)AT(i + 1))) {
            int d = AT(i + 1) - '0';
            for (int k = last + 1; k < d && k <= 32; k++)
                set |= 1u << (k - 1);
            i++;
        } else {
            i++;
        }
    }
    abc_bar_close(p, ABC_B_ENDING, start, 0);
    if (p->t->n && p->t->ev[p->t->n - 1].kind == ABC_EV_BAR) p->t->ev[p->t->n - 1].endings = set;
    *pi = i;
}

/* [CEG]2: notes sounding together. abc2midi gives every note the first note's length. */
static void parse_chord(abc_parser *p, size_t *pi, size_t e) {
    size_t i = *pi + 1, start = *pi;
    abc_tune *t = p->t;
    abc_voice *v = &p->v[p->cur];
    group_begin(p);
    abc_rat first = {0, 1};
    int n = 0, tie_last = 0;
    while (i < e && AT(i) != ']') {
        char c = AT(i);
        if (is_acc(c) || is_note_letter(c)) {
            abc_rat len;
            int three;
            size_t before = t->n;
            if (parse_note(p, &i, e, 0, &len, &three) && t->n > before) {
                if (!n) first = len;
                n++;
            }
        } else if (c == '-') {
            if (n && t->n) t->ev[t->n - 1].flags |= ABC_N_TIE;
            tie_last = 1;
            i++;
        } else if (c == '!' || c == '"' || c == '+') {
            size_t j = i + 1;
            while (j < e && AT(j) != c && AT(j) != ']')
                j++;
            if (AT(j) == c) {
                i = j + 1;
            } else if (c == '+') { /* "[+GB]": the old +chord+ notation half-converted */
                abc_diag(p, i, 0, "stray '+' in a chord ignored");
                i++;
            } else {
                abc_diag(p, i, 1, "unclosed '%c' in a chord", c);
                i = j;
            }
        } else if (strchr(" \t.~HLMOPSTuv()", c) ||
                   ((unsigned char)c < 128 && p->user_syms[(int)c])) {
            i++;
        } else {
            abc_diag(p, i, 1, "unexpected '%c' in a chord", c >= 32 && c < 127 ? c : '?');
            i++;
        }
    }
    (void)tie_last;
    if (AT(i) != ']') {
        abc_diag(p, start, 1, "unclosed chord '['");
        *pi = e;
    } else {
        i++;
        if (!n && i == start + 2)
            abc_ext(p, start, "empty chord", "abcm2ps empty chord '[]' (a place for decorations)");
        else if (!n)
            abc_diag(p, start, 1, "chord without notes");
        *pi = i;
    }
    abc_rat mult = parse_length(p, pi, e, NULL);
    if (!n) return;
    abc_rat len = abc_rat_mul(abc_rat_mul(v->unit, first), mult);
    for (size_t k = v->grp0; k < t->n; k++) {
        abc_event *ev = &t->ev[k];
        ev->dur = len;
        ev->advance = (abc_rat){0, 1};
        ev->flags |= ABC_N_CHORD;
        if (k + 1 == t->n) {
            ev->flags |= ABC_N_CHORD_END;
            ev->advance = len;
        }
    }
    group_end(p, 0);
    /* a chord tie written inside ("[A-c]") ties those notes only */
    int any_tie = 0;
    for (size_t k = v->grp0; k < v->grp1; k++)
        any_tie |= t->ev[k].flags & ABC_N_TIE;
    if (any_tie) {
        v->n_tied = 0;
        for (size_t k = v->grp0; k < v->grp1 && v->n_tied < 8; k++) {
            abc_event *ev = &t->ev[k];
            if (!(ev->flags & ABC_N_TIE)) continue;
            v->tied_pitch[v->n_tied] = ev->pitch;
            v->tied_letter[v->n_tied] = ev->letter;
            v->tied_oct[v->n_tied] = ev->written;
            v->n_tied++;
        }
    }
}

/* {ag}: grace notes, checked but not played (abc2midi -NGRA). */
static void parse_grace(abc_parser *p, size_t *pi, size_t e) {
    size_t i = *pi + 1, start = *pi;
    while (i < e && AT(i) != '}') {
        char c = AT(i);
        if (is_acc(c) || is_note_letter(c)) {
            abc_rat len;
            parse_note(p, &i, e, 1, &len, NULL);
        } else if (c == '(' && (AT(i + 1) == '\'' || AT(i + 1) == ',')) {
            abc_ext(p, i, "slur direction mark", "abcm2ps slur direction mark '(%c' read as '('",
                    AT(i + 1));
            i += 2;
        } else if (c == '/' || c == ' ' || c == '-' || c == '[' || c == ']' || c == '(' ||
                   c == ')' || c == '.' || c == '~') {
            i++;
        } else if (strchr("HLMOPSTuv", c) || ((unsigned char)c < 128 && p->user_syms[(int)c])) {
            abc_ext(p, i, "decoration in grace notes",
                    "abcm2ps decoration '%c' inside grace notes ignored", c);
            i++;
        } else if (c == '!' || c == '"') {
            size_t j = i + 1;
            while (j < e && AT(j) != c && AT(j) != '}')
                j++;
            if (AT(j) != c) {
                abc_diag(p, i, 1, "unclosed '%c' in grace notes", c);
                i = j;
                continue;
            }
            abc_ext(p, i, "decoration in grace notes", "abcm2ps %s inside grace notes ignored",
                    c == '!' ? "decoration" : "annotation");
            i = j + 1;
        } else {
            abc_diag(p, i, 1, "unexpected '%c' in grace notes", c >= 32 && c < 127 ? c : '?');
            i++;
        }
    }
    if (AT(i) != '}') {
        abc_diag(p, start, 1, "unclosed grace notes '{'");
        *pi = e;
        return;
    }
    *pi = i + 1;
}

/* (p:q:r — p notes in the time of q, for the next r notes. */
static void parse_tuplet(abc_parser *p, size_t *pi, size_t e) {
    abc_voice *v = &p->v[p->cur];
    size_t i = *pi + 1, start = *pi;
    int num[3] = {0, 0, 0}, have[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        if (k && AT(i) != ':') break;
        if (k) i++;
        while (isdigit((unsigned char)AT(i))) {
            if (num[k] < 100) num[k] = num[k] * 10 + AT(i) - '0';
            have[k] = 1;
            i++;
        }
    }
    *pi = i;
    int pn = num[0];
    if (pn < 2 || pn > 9) {
        abc_diag(p, start, pn < 1 ? 1 : 0, "tuplet (%d: expected 2..9 notes", pn);
        if (pn < 1) return;
    }
    int compound = v->meter_num % 3 == 0 && v->meter_num > 3;
    int q = have[1] && num[1] ? num[1] : 0;
    if (!q) {
        switch (pn) {
        case 2:
            q = 3;
            break;
        case 3:
            q = 2;
            break;
        case 4:
            q = 3;
            break;
        case 6:
            q = 2;
            break;
        case 8:
            q = 3;
            break;
        default:
            q = compound ? 3 : 2;
            break;
        }
    }
    int r = have[2] && num[2] ? num[2] : pn;
    if (v->tup_left > 0)
        abc_diag(p, start, 0, "tuplet starts before the previous one has its %d notes", v->tup_p);
    v->tup_left = r;
    v->tup_p = pn;
    v->tup_factor = abc_rat_make(q, pn);
    v->tup_line = p->line_no;
    v->tup_col = abc_col(p, start);
}

static void apply_decos(abc_parser *p, size_t g0, int flags) {
    abc_tune *t = p->t;
    /* abc2midi ornaments single notes only */
    if (!flags || t->n != g0 + 1 || t->ev[g0].kind != ABC_EV_NOTE) return;
    t->ev[g0].flags |= (uint16_t)flags;
}

/* ---- the line ---------------------------------------------------------------------------------
 */

void abc_parse_music(abc_parser *p, size_t b, size_t e) {
    abc_voice *v;
    abc_tune *t = p->t;
    int deco = 0;
    int grp_fresh = 0; /* the last token was a note group: '-' and '>' may follow */
    size_t i = b;
    while (i < e && !t->oom) {
        v = &p->v[p->cur];
        char c = p->s[i];
        unsigned char uc = (unsigned char)c;
        if (c == ' ' || c == '\t' || c == '`') {
            i++;
            continue;
        }
        if (c == '%') break;
        if (c == '\\') {
            size_t j = i + 1;
            while (j < e && (p->s[j] == ' ' || p->s[j] == '\t'))
                j++;
            if (j < e && p->s[j] != '%') abc_diag(p, i, 0, "'\\' inside a line ignored");
            i++;
            continue;
        }
        if (is_acc(c) || is_note_letter(c)) {
            group_begin(p);
            abc_rat len;
            int three = 0;
            size_t g0 = t->n;
            if (!parse_note(p, &i, e, 0, &len, &three)) {
                grp_fresh = 0;
                continue;
            }
            apply_decos(p, g0, deco);
            deco = 0;
            group_end(p, three);
            grp_fresh = 1;
            continue;
        }
        switch (c) {
        case 'z':
        case 'x': {
            size_t s0 = i++;
            group_begin(p);
            abc_rat mult = parse_length(p, &i, e, NULL);
            abc_event *ev = abc_push_event(p, ABC_EV_REST, s0);
            if (ev) ev->dur = ev->advance = abc_rat_mul(v->unit, mult);
            group_end(p, 0);
            v->n_tied = 0;
            deco = 0;
            grp_fresh = 1;
            continue;
        }
        case 'Z':
        case 'X': {
            size_t s0 = i++;
            int nb = 0, have = 0;
            while (isdigit((unsigned char)AT(i))) {
                if (nb < 10000) nb = nb * 10 + AT(i) - '0';
                have = 1;
                i++;
            }
            if (!have) nb = 1;
            if (!nb) abc_diag(p, s0, 0, "multi-bar rest of zero bars");
            abc_rat m = v->meter.n ? v->meter : abc_rat_make(1, 1);
            abc_event *ev = abc_push_event(p, ABC_EV_REST, s0);
            if (ev) ev->dur = ev->advance = abc_rat_mul(m, abc_rat_make(nb, 1));
            v->bar_has_music = 1;
            v->bar_multirest = 1;
            v->n_tied = 0;
            grp_fresh = 0;
            continue;
        }
        case 'y':
            i++;
            while (isdigit((unsigned char)AT(i)))
                i++;
            continue;
        case '"': {
            size_t j = i + 1;
            while (j < e && p->s[j] != '"')
                j++;
            if (j >= e) {
                abc_diag(p, i, 1, "unclosed chord symbol or annotation '\"'");
                return;
            }
            i = j + 1;
            continue;
        }
        case '!':
        case '+': {
            size_t j = i + 1;
            while (j < e && p->s[j] != c && p->s[j] != ' ' && j - i < 40)
                j++;
            if (j >= e || p->s[j] != c) {
                if (c == '!')
                    abc_diag(p, i, 0, "'!' without a closing '!' (old line break?) ignored");
                else
                    abc_diag(p, i, 0, "'+' without a closing '+' ignored");
                i++;
                continue;
            }
            if (!known_decoration(p->s + i + 1, j - i - 1))
                abc_diag(p, i, 0, "unknown decoration %c%.*s%c", c, (int)(j - i - 1), p->s + i + 1,
                         c);
            deco |= decoration_flags(p->s + i + 1, j - i - 1);
            i = j + 1;
            continue;
        }
        case '.':
            if (AT(i + 1) == '|') {
                parse_bar(p, &i, e);
                grp_fresh = 0;
                continue;
            }
            deco |= ABC_N_STACCATO;
            i++;
            continue;
        case '~':
            deco |= ABC_N_ROLL;
            i++;
            continue;
        case 'T':
            deco |= ABC_N_TRILL;
            i++;
            continue;
        case 'H':
        case 'L':
        case 'M':
        case 'O':
        case 'P':
        case 'S':
        case 'u':
        case 'v':
            i++;
            continue;
        case '|':
        case ':':
            parse_bar(p, &i, e);
            grp_fresh = 0;
            deco = 0;
            continue;
        case '[':
            if (AT(i + 1) == '|') {
                parse_bar(p, &i, e);
            } else if (isdigit((unsigned char)AT(i + 1))) {
                parse_bracket_ending(p, &i, e);
            } else if (isalpha((unsigned char)AT(i + 1)) && AT(i + 2) == ':') {
                size_t j = i + 3;
                while (j < e && p->s[j] != ']')
                    j++;
                if (j >= e) {
                    abc_diag(p, i, 1, "unclosed inline field '[%c:'", AT(i + 1));
                    return;
                }
                abc_body_field(p, AT(i + 1), i + 3, j, i);
                i = j + 1;
            } else {
                size_t g0 = t->n;
                parse_chord(p, &i, e);
                v = &p->v[p->cur];
                if (t->n > g0) grp_fresh = 1;
                (void)g0;
            }
            deco = 0;
            continue;
        case ']':
            abc_diag(p, i, 1, "']' without '['");
            i++;
            continue;
        case '{':
            parse_grace(p, &i, e);
            continue;
        case '}':
            abc_diag(p, i, 1, "'}' without '{'");
            i++;
            continue;
        case '(':
            if (isdigit((unsigned char)AT(i + 1))) {
                parse_tuplet(p, &i, e);
            } else {
                if (!p->slur_depth) p->slur_line = p->line_no, p->slur_col = abc_col(p, i);
                p->slur_depth++;
                if (AT(i + 1) == '\'' || AT(i + 1) == ',') {
                    /* abcm2ps: the slur drawn above or below; abc2midi reads it too */
                    abc_ext(p, i, "slur direction mark",
                            "abcm2ps slur direction mark '(%c' read as '('", AT(i + 1));
                    i++;
                }
                i++;
            }
            continue;
        case ')':
            if (p->slur_depth > 0)
                p->slur_depth--;
            else
                abc_diag(p, i, 0, "')' without '('");
            i++;
            continue;
        case '-':
            if (grp_fresh && v->have_grp) {
                record_ties(v, t);
            } else {
                abc_diag(p, i, 0, "tie '-' not after a note");
            }
            i++;
            continue;
        case '>':
        case '<': {
            size_t s0 = i;
            int n = 0;
            while (AT(i) == c)
                n++, i++;
            if (n > 3) {
                abc_diag(p, s0, 1, "broken rhythm '%.*s' too long", n, p->s + s0);
                n = 3;
            }
            if (!grp_fresh || !v->have_grp) {
                abc_diag(p, s0, 0, "broken rhythm '%c' not after a note", c);
                continue;
            }
            /* > : 3/2 then 1/2; >> : 7/4 then 1/4; >>> : 15/8 then 1/8 */
            int64_t d = (int64_t)1 << n;
            abc_rat small = abc_rat_make(1, d), big = abc_rat_make(2 * d - 1, d);
            if (t->hornpipe && n == 1) /* abc2midi plays a hornpipe's '>' 2:1, as its swing */
                small = abc_rat_make(2, 3), big = abc_rat_make(4, 3);
            abc_rat first = c == '>' ? big : small;
            scale_group(t, v->grp0, v->grp1, first);
            v->broken_next = c == '>' ? small : big;
            v->broken_p0 = v->grp0, v->broken_p1 = v->grp1;
            v->broken_undo = abc_rat_make(first.d, first.n);
            v->broken_line = p->line_no;
            v->broken_col = abc_col(p, s0);
            continue;
        }
        case '&':
            abc_diag(p, i, 0, "voice overlay '&' is not played");
            i++;
            continue;
        case '$':
        case '*':
        case ';':
            abc_diag(p, i, 0, "'%c' ignored", c);
            i++;
            continue;
        default:
            break;
        }
        if ((c >= 'h' && c <= 'w') || (c >= 'H' && c <= 'Y')) {
            if (!p->user_syms[uc]) abc_diag(p, i, 0, "undefined decoration symbol '%c'", c);
            i++;
            continue;
        }
        if (isdigit(uc))
            abc_diag(p, i, 1, "number '%c' not after a note", c);
        else if (c == '/')
            abc_diag(p, i, 1, "'/' not after a note");
        else if (c == ',' || c == '\'')
            abc_diag(p, i, 1, "octave mark '%c' not after a note", c);
        else if (uc >= 0x80)
            abc_diag(p, i, 1, "non-ASCII character in music");
        else if (uc < 32 || uc == 127)
            abc_diag(p, i, 1, "control character 0x%02x in music", uc);
        else
            abc_diag(p, i, 1, "unexpected character '%c' in music", c);
        /* skip a whole UTF-8 sequence at once */
        i++;
        while (i < e && ((unsigned char)p->s[i] & 0xC0) == 0x80)
            i++;
    }
}
