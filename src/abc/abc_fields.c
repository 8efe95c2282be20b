/* abc_fields.c — the values of the header fields that change how music sounds: K:, M:, L:, Q:.
 *
 * Each parser takes the text after "X:" (not NUL-terminated) and is lenient where real tune
 * books are (spaces, case of mode names, trailing clef words) but says "bad" when the value
 * cannot be read at all. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "abc/abc_internal.h"

static size_t skip_ws(const char *s, size_t i, size_t len) {
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

/* Reads up to 6 digits; returns the number of digits read. */
static size_t read_int(const char *s, size_t i, size_t len, int *v) {
    size_t k = 0;
    *v = 0;
    while (i + k < len && isdigit((unsigned char)s[i + k])) {
        if (k < 6) *v = *v * 10 + (s[i + k] - '0');
        k++;
    }
    return k;
}

/* ---- K: ---------------------------------------------------------------------------------- */

static int word_is(const char *w, size_t wl, const char *name, size_t min) {
    /* a mode name matches on its first three letters (ABC 2.1: "only the first three") */
    if (wl < min) return 0;
    for (size_t i = 0; i < wl; i++) {
        if (!name[i] || tolower((unsigned char)w[i]) != name[i]) return i >= 3;
    }
    return 1;
}

static int mode_offset(const char *w, size_t wl, int *off) {
    static const struct {
        const char *name;
        int off;
    } modes[] = {{"major", 0},     {"ionian", 0},      {"minor", -3},
                 {"aeolian", -3},  {"mixolydian", -1}, {"dorian", -2},
                 {"phrygian", -4}, {"lydian", 1},      {"locrian", -5}};
    if (wl == 0) {
        *off = 0;
        return 1;
    }
    if (wl == 1 && (w[0] == 'm' || w[0] == 'M')) {
        *off = -3;
        return 1;
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (word_is(w, wl, modes[i].name, 3)) {
            *off = modes[i].off;
            return 1;
        }
    }
    return 0;
}

static void set_signature(abc_key *k, int sharps) {
    static const int sharp_order[7] = {3, 0, 4, 1, 5, 2, 6}; /* F C G D A E B as C..B index */
    memset(k->acc, 0, sizeof k->acc);
    k->sharps = sharps;
    for (int i = 0; i < sharps && i < 7; i++)
        k->acc[sharp_order[i]] = 1;
    for (int i = 0; i < -sharps && i < 7; i++)
        k->acc[sharp_order[6 - i]] = -1;
}

static int letter_index(char c) {
    static const char *letters = "CDEFGAB";
    const char *p = strchr(letters, toupper((unsigned char)c));
    return p && c ? (int)(p - letters) : -1;
}

/* Known non-key words after the key: clefs and staff settings, which do not change pitch. */
static int is_clef_word(const char *w, size_t wl) {
    static const char *words[] = {"none",        "clef=",       "middle=", "transpose=", "octave=",
                                  "stafflines=", "staffscale=", "cue=",    "m=",         "t="};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        if (words[i][n - 1] == '=' ? (wl >= n && !strncmp(w, words[i], n))
                                   : (wl == n && !strncmp(w, words[i], n)))
            return 1;
    }
    /* ABC 2.1 clef names: a name, an optional staff line 1-5, an optional +8 or -8 */
    static const char *clefs[] = {"treble", "bass", "alto", "tenor", "perc"};
    for (size_t i = 0; i < sizeof clefs / sizeof clefs[0]; i++) {
        size_t n = strlen(clefs[i]);
        if (wl < n || strncmp(w, clefs[i], n)) continue;
        if (n < wl && w[n] >= '1' && w[n] <= '5') n++;
        if (n + 2 == wl && (w[n] == '+' || w[n] == '-') && w[n + 1] == '8') n += 2;
        if (n == wl) return 1;
    }
    return 0;
}

int abc_parse_key(const char *s, size_t len, abc_key *k, char *warn, size_t wlen) {
    static const int major[7] = {0, 2, 4, -1, 1, 3, 5}; /* C D E F G A B */
    memset(k, 0, sizeof *k);
    if (warn && wlen) warn[0] = '\0';
    size_t i = skip_ws(s, 0, len);
    while (len > i && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    /* a trailing comment is not part of the value */
    for (size_t j = i; j < len; j++)
        if (s[j] == '%') {
            len = j;
            while (len > i && (s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
            break;
        }
    if (i >= len) {
        if (warn) snprintf(warn, wlen, "empty K: field, taken as C major");
        return 1;
    }
    size_t w0 = i;
    while (i < len && s[i] != ' ' && s[i] != '\t')
        i++;
    const char *w = s + w0;
    size_t wl = i - w0;
    if ((wl == 2 && (!strncmp(w, "HP", 2) || !strncmp(w, "Hp", 2)))) {
        /* Highland pipes: HP has no signature, Hp is written with F# C# (G natural) */
        if (w[1] == 'p') {
            k->acc[3] = 1, k->acc[0] = 1;
            k->sharps = 2;
        }
    } else if (wl == 4 && !strncmp(w, "none", 4)) {
        k->none = 1;
    } else if (is_clef_word(w, wl) || (wl > 0 && (w[0] == '^' || w[0] == '_' || w[0] == '='))) {
        i = w0; /* no tonic: clef only or explicit accidentals only, C major */
    } else {
        int li = letter_index(w[0]);
        if (li < 0 || !isupper((unsigned char)w[0])) return 0;
        int sharps = major[li];
        size_t p = 1;
        if (p < wl && w[p] == '#')
            sharps += 7, p++;
        else if (p < wl && w[p] == 'b')
            sharps -= 7, p++;
        int off;
        /* mode may be attached ("Am", "Ddor") or the next word ("A minor") */
        size_t ml = p;
        while (ml < wl && w[ml] != '^' && w[ml] != '_' && w[ml] != '=')
            ml++;
        if (!mode_offset(w + p, ml - p, &off)) return 0;
        if (ml < wl) { /* "Dm^c": accidentals glued to the mode */
            i = w0 + ml;
            if (warn && !warn[0]) snprintf(warn, wlen, "K: accidentals should follow a space");
        }
        if (p == wl) {
            size_t j = skip_ws(s, i, len), e = j;
            while (e < len && s[e] != ' ' && s[e] != '\t')
                e++;
            int off2;
            if (e > j && isalpha((unsigned char)s[j]) && !is_clef_word(s + j, e - j) &&
                mode_offset(s + j, e - j, &off2)) {
                off = off2;
                i = e;
            }
        }
        sharps += off;
        if (sharps > 7 || sharps < -7) {
            if (warn)
                snprintf(warn, wlen, "key with %d %s taken modulo 12",
                         sharps < 0 ? -sharps : sharps, sharps < 0 ? "flats" : "sharps");
            sharps = sharps > 7 ? sharps - 12 : sharps + 12;
        }
        set_signature(k, sharps);
    }
    /* the rest: explicit accidentals (^f _b =c) and clef words */
    for (;;) {
        i = skip_ws(s, i, len);
        if (i >= len) break;
        size_t e = i;
        while (e < len && s[e] != ' ' && s[e] != '\t')
            e++;
        if (s[i] == '^' || s[i] == '_' || s[i] == '=') {
            int shift = 0;
            size_t j = i;
            while (j < e && (s[j] == '^' || s[j] == '_' || s[j] == '=')) {
                shift += s[j] == '^' ? 1 : s[j] == '_' ? -1 : 0;
                j++;
            }
            int li = j < e ? letter_index(s[j]) : -1;
            if (li < 0 || j + 1 != e) return 0;
            k->acc[li] = (int8_t)(shift > 2 ? 2 : shift < -2 ? -2 : shift);
        } else if (!is_clef_word(s + i, e - i)) {
            if (warn && !warn[0])
                snprintf(warn, wlen, "unknown word '%.*s' in K: ignored",
                         (int)(e - i > 20 ? 20 : e - i), s + i);
        }
        i = e;
    }
    return 1;
}

/* ---- M:, L:, Q: ------------------------------------------------------------------------------ */

int abc_parse_meter(const char *s, size_t len, abc_rat *meter, int *num, int *den) {
    size_t i = skip_ws(s, 0, len);
    const char *pc = memchr(s, '%', len);
    if (pc) len = (size_t)(pc - s);
    while (len > i && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    if (len - i == 4 && !strncmp(s + i, "none", 4)) {
        *meter = (abc_rat){0, 1};
        *num = *den = 0;
        return 1;
    }
    if (len - i == 1 && s[i] == 'C') {
        *meter = abc_rat_make(1, 1), *num = 4, *den = 4;
        return 1;
    }
    if (len - i == 2 && s[i] == 'C' && s[i + 1] == '|') {
        *meter = abc_rat_make(1, 1), *num = 2, *den = 2;
        return 1;
    }
    /* numerator: a sum like 2+3+2, optionally in parentheses */
    int n = 0, v, d;
    if (i < len && s[i] == '(') i++;
    for (;;) {
        size_t k = read_int(s, i, len, &v);
        if (!k) return 0;
        n += v;
        i += k;
        if (i < len && s[i] == '+') {
            i++;
            continue;
        }
        break;
    }
    if (i < len && s[i] == ')') i++;
    if (i >= len || s[i] != '/') return 0;
    i++;
    size_t k = read_int(s, i, len, &d);
    if (!k || d <= 0 || n <= 0 || d > 64 || n > 64) return 0;
    i = skip_ws(s, i + k, len);
    if (i < len && s[i] != '%') return 0;
    *meter = abc_rat_make(n, d);
    *num = n, *den = d;
    return 1;
}

int abc_parse_unit(const char *s, size_t len, abc_rat *unit) {
    size_t i = skip_ws(s, 0, len);
    int n, d = 1;
    size_t k = read_int(s, i, len, &n);
    if (!k || n <= 0) return 0;
    i += k;
    if (i < len && s[i] == '/') {
        k = read_int(s, i + 1, len, &d);
        if (!k || d <= 0 || d > 512) return 0;
        i += k + 1;
    }
    i = skip_ws(s, i, len);
    if (i < len && s[i] != '%' && s[i] != '\r') return 0;
    *unit = abc_rat_make(n, d);
    return 1;
}

int abc_parse_tempo(const char *s, size_t len, abc_rat unit, long *us) {
    size_t i = 0;
    abc_rat beat = {0, 1};
    int bpm = -1, have_beat = 0;
    while (i < len) {
        i = skip_ws(s, i, len);
        if (i >= len || s[i] == '%') break;
        if (s[i] == '"') { /* a tempo word like "Allegro": skipped */
            i++;
            while (i < len && s[i] != '"')
                i++;
            if (i < len) i++;
            continue;
        }
        int a, b;
        size_t k = read_int(s, i, len, &a);
        if (!k) {
            if (s[i] == 'C' || s[i] == 'c') { /* legacy "C=120": C is the unit note */
                beat = abc_rat_add(beat, unit), have_beat = 1, i++;
                continue;
            }
            if (s[i] == '=') {
                i++;
                continue;
            }
            i++; /* other text, e.g. an unquoted word */
            continue;
        }
        i += k;
        if (i < len && s[i] == '/') {
            size_t k2 = read_int(s, i + 1, len, &b);
            if (!k2 || !b) return 0;
            i += k2 + 1;
            beat = abc_rat_add(beat, abc_rat_make(a, b));
            have_beat = 1;
        } else {
            bpm = a;
        }
    }
    if (bpm <= 0) return 0;
    if (!have_beat) beat = unit; /* legacy "Q:120": unit notes per minute */
    /* us per quarter = 60e6 / (bpm * beat / (1/4)) */
    long double q = (long double)bpm * beat.n * 4 / beat.d;
    if (q <= 0) return 0;
    long double v = 60000000.0L / q;
    if (v < 1 || v > 16777215) return 0;
    *us = (long)(v + 0.5L);
    return 1;
}

/* ---- P: in the header: the order of the parts ---------------------------------------------- */

typedef struct {
    const char *s;
    size_t len, i;
    char *out;
    int n, cap;
} parts_reader;

static int parts_count(parts_reader *r) {
    int k = 0, have = 0;
    while (r->i < r->len && isdigit((unsigned char)r->s[r->i])) {
        if (k < 1000) k = k * 10 + (r->s[r->i] - '0');
        have = 1;
        r->i++;
    }
    return have ? k : 1;
}

/* A sequence up to ')' or the end: letters and groups, each with an optional count. */
static void parts_seq(parts_reader *r, int depth) {
    while (r->i < r->len) {
        char c = r->s[r->i];
        if (c == ')') {
            if (depth > 0) return;
            r->i++; /* unmatched: ignored */
            continue;
        }
        if (c >= 'A' && c <= 'Z') {
            r->i++;
            int k = parts_count(r);
            for (int j = 0; j < k && r->n < r->cap; j++)
                r->out[r->n++] = c;
            continue;
        }
        if (c == '(' && depth < 8) {
            r->i++;
            int from = r->n;
            parts_seq(r, depth + 1);
            if (r->i < r->len && r->s[r->i] == ')') r->i++;
            int k = parts_count(r), glen = r->n - from;
            for (int j = 1; j < k && glen > 0; j++) {
                for (int q = 0; q < glen && r->n < r->cap; q++)
                    r->out[r->n++] = r->out[from + q];
            }
            continue;
        }
        r->i++; /* '.', spaces, anything else: ignored */
    }
}

int abc_expand_parts(const char *s, size_t len, char *out, int cap) {
    parts_reader r = {s, len, 0, out, 0, cap > 0 ? cap : 0};
    parts_seq(&r, 0);
    return r.n;
}
