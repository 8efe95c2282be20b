/* tunes.c — the tune list container. */
#include "data/tunes.h"

#include "data/text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

ts_status ts_tunes_push(ts_tune_list *l, char *text, const char *group, const char *source,
                        uint32_t index) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        ts_tune *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(text);
            return ts_set_error_status(TS_ENOMEM, "out of host memory while reading tunes");
        }
        l->v = v;
        l->cap = cap;
    }
    ts_tune *t = &l->v[l->n];
    t->text = text;
    t->group = strdup(group);
    t->source = strdup(source);
    t->index = index;
    if (!t->group || !t->source) {
        ts_tune_free(t);
        return ts_set_error_status(TS_ENOMEM, "out of host memory while reading tunes");
    }
    l->n++;
    return TS_OK;
}

void ts_tune_free(ts_tune *t) {
    free(t->text);
    free(t->group);
    free(t->source);
    memset(t, 0, sizeof *t);
}

void ts_tunes_free(ts_tune_list *l) {
    for (size_t i = 0; i < l->n; i++)
        ts_tune_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Lower-case letters and digits only. Non-ASCII text is compared by code point: Latin-1 and
 * general punctuation, symbols and spaces (curly quotes, no-break space, dashes) are dropped,
 * Latin-1 capitals are folded, every other character is kept. */
int ts_title_key(const char *title, size_t len, char *out, size_t cap) {
    size_t n = 0;
    const unsigned char *s = (const unsigned char *)title;
    for (size_t i = 0; i < len && n + 5 < cap;) {
        uint32_t cp;
        int bytes = 1;
        if (s[i] < 0x80) {
            cp = s[i];
        } else {
            /* a sequence cut off by len ends the key: check before decoding reads past it */
            bytes = (s[i] & 0xE0) == 0xC0 ? 2 : (s[i] & 0xF0) == 0xE0 ? 3 : 4;
            if (i + (size_t)bytes > len) break;
            ts_utf8_decode(s + i, &cp);
        }
        i += (size_t)bytes;
        if (cp < 0x80) {
            if (isalnum((int)cp)) out[n++] = (char)tolower((int)cp);
            continue;
        }
        if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp <= 0x206F) ||
            cp == 0x3000 || cp == 0xFEFF)
            continue;
        if (cp >= 0xC0 && cp <= 0xDE) cp += 0x20; /* Latin-1 capitals to lower case */
        n += (size_t)ts_utf8_encode(cp, out + n);
    }
    out[n] = '\0';
    return n > 0;
}
