/* tunes.c — the tune list container. */
#include "data/tunes.h"

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
            return ts_set_error("out of host memory while reading tunes");
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
        return ts_set_error("out of host memory while reading tunes");
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
    for (size_t i = 0; i < l->n; i++) ts_tune_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

int ts_title_key(const char *title, size_t len, char *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)title[i];
        if (c >= 0x80) {
            out[n++] = (char)c; /* keep non-ASCII letters as they are */
        } else if (isalnum(c)) {
            out[n++] = (char)tolower(c);
        }
    }
    out[n] = '\0';
    return n > 0;
}
