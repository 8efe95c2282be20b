/* ingest_abc.c — splitting ABC text into tunes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/ingest.h"

/* Next line [start, end) without its terminator; returns the offset after the terminator. */
static size_t next_line(const char *s, size_t len, size_t pos, size_t *end) {
    size_t i = pos;
    while (i < len && s[i] != '\n' && s[i] != '\r')
        i++;
    *end = i;
    if (i < len && s[i] == '\r') i++;
    if (i < len && s[i] == '\n' && (i == *end || s[i - 1] == '\r')) i++;
    return i;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\f') return 0;
    return 1;
}

static int starts_field(const char *s, size_t n, char field) {
    return n >= 2 && s[0] == field && s[1] == ':';
}

/* Group key: the first T: title, else the source and tune number. */
static void abc_group(const char *tune, size_t len, const char *source, uint32_t index, char *out,
                      size_t cap) {
    size_t pos = 0, end;
    while (pos < len) {
        size_t next = next_line(tune, len, pos, &end);
        if (starts_field(tune + pos, end - pos, 'T')) {
            char key[512];
            if (ts_title_key(tune + pos + 2, end - pos - 2, key, sizeof key)) {
                snprintf(out, cap, "title:%s", key);
                return;
            }
        }
        if (starts_field(tune + pos, end - pos, 'K')) break; /* the header ends at K: */
        pos = next;
    }
    snprintf(out, cap, "tune:%s#%u", source, index);
}

ts_status ts_ingest_abc(const char *text, size_t len, const char *source, ts_tune_list *out,
                        uint32_t *added) {
    *added = 0;
    size_t pos = 0, end;
    size_t tune_start = 0;
    int in_tune = 0;
    uint32_t index = 0;
    for (;;) {
        size_t next = pos < len ? next_line(text, len, pos, &end) : len;
        int at_eof = pos >= len;
        int blank = !at_eof && is_blank(text + pos, end - pos);
        int new_tune = !at_eof && starts_field(text + pos, end - pos, 'X');
        if (in_tune && (at_eof || blank || new_tune)) {
            size_t n = pos - tune_start;
            while (n && (text[tune_start + n - 1] == '\n' || text[tune_start + n - 1] == '\r'))
                n--;
            char *tune = malloc(n + 1);
            if (!tune) return ts_set_error_status(TS_ENOMEM, "%s: out of host memory", source);
            memcpy(tune, text + tune_start, n);
            tune[n] = '\0';
            char group[640];
            abc_group(tune, n, source, index, group, sizeof group);
            if (ts_tunes_push(out, tune, group, source, index) != TS_OK) return TS_ERR;
            index++;
            (*added)++;
            in_tune = 0;
        }
        if (at_eof) break;
        if (new_tune) {
            in_tune = 1;
            tune_start = pos;
        }
        pos = next;
    }
    return TS_OK;
}
