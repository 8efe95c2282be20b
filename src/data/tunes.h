/*
 * tunes.h — the in-memory corpus between ingest and encode: one record per tune.
 */
#ifndef TS_DATA_TUNES_H
#define TS_DATA_TUNES_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct {
    char *text;     /* UTF-8, header and body; raw after ingest, cleaned after clean */
    char *group;    /* tune identity: every setting of one tune shares it (split unit) */
    char *source;   /* file, or archive!member, it came from */
    uint32_t index; /* position of the tune within its source, from 0 */
} ts_tune;

typedef struct {
    ts_tune *v;
    size_t n, cap;
} ts_tune_list;

/* Appends a tune; takes ownership of text, copies group and source. */
ts_status ts_tunes_push(ts_tune_list *l, char *text, const char *group, const char *source,
                        uint32_t index);
void ts_tune_free(ts_tune *t);
void ts_tunes_free(ts_tune_list *l);

/* A group key from a tune title: lower-case letters and digits only, so "The Kesh Jig" and
 * "Kesh Jig, The" are not merged but spacing and punctuation variants are. Returns 0 if the
 * title has no letters or digits. */
int ts_title_key(const char *title, size_t len, char *out, size_t cap);

#endif
