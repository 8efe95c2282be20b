/* fuzz_records.c — JSON/CSV tune-record ingest at the record level: the input is cut into the
 * seven fields of a record (tune_id, setting_id, name, type, meter, mode, abc), each optionally
 * repeated up to ~200 kB (the overflow of issue 25 needed a 200 kB setting_id, beyond
 * fuzz_ingest's 64 kB inputs), then written as a well-formed JSON array and CSV table so every
 * input reaches add_record. Checked: one tune per record with an abc, and its text ends with
 * the abc body exactly. */
#include "fuzz_common.h"

#include <cjson/cJSON.h>

#include "data/ingest.h"
#include "data/tunes.h"

enum { N_FIELDS = 7, MAX_FIELD = 200000 };
static const char *const keys[N_FIELDS] = {"tune_id", "setting_id", "name", "type",
                                           "meter",   "mode",       "abc"};

/* Field i: the bytes up to the next 0x1f, NULs made spaces (JSON strings end at NUL), repeated
 * 1 to 2^14 times as the control byte says, capped at MAX_FIELD. */
static char *field(const uint8_t **p, const uint8_t *end, uint8_t control) {
    const uint8_t *s = *p;
    while (*p < end && **p != 0x1f)
        (*p)++;
    size_t n = (size_t)(*p - s);
    if (*p < end) (*p)++;
    size_t reps = (size_t)1 << (control & 15) % 15;
    if (n == 0 || n * reps > MAX_FIELD) reps = n ? MAX_FIELD / n : 0;
    if (reps == 0) reps = 1;
    char *out = malloc(n * reps + 1);
    if (!out) abort();
    for (size_t r = 0; r < reps; r++)
        for (size_t i = 0; i < n; i++)
            out[r * n + i] = s[i] ? (char)s[i] : ' ';
    out[n * reps] = 0;
    return out;
}

static void csv_quote(char **buf, size_t *len, size_t *cap, const char *s, int last) {
    size_t need = *len + 2 * strlen(s) + 4;
    if (need > *cap) {
        *cap = 2 * need;
        *buf = realloc(*buf, *cap);
        if (!*buf) abort();
    }
    char *o = *buf + *len;
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '"') *o++ = '"';
        *o++ = *s;
    }
    *o++ = '"';
    *o++ = last ? '\n' : ',';
    *len = (size_t)(o - *buf);
}

/* The record's tune must end with the abc body (leading newlines dropped, as the reader does). */
static void check(const ts_tune_list *l, uint32_t added, const char *abc) {
    const char *body = abc;
    while (*body == '\n' || *body == '\r')
        body++;
    if (!abc[0]) {
        if (added != 0) abort();
        return;
    }
    if (added != 1 || l->n != 1) abort();
    size_t tl = strlen(l->v[0].text), bl = strlen(body);
    if (tl < bl || memcmp(l->v[0].text + tl - bl, body, bl) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) fuzz_quiet(), init = 1;
    if (size < N_FIELDS + 1) return 0;
    const uint8_t *control = data, *p = data + N_FIELDS + 1, *end = data + size;
    int numeric_ids = data[N_FIELDS] & 1; /* ids as JSON numbers, as The Session writes them */
    char *f[N_FIELDS];
    for (int i = 0; i < N_FIELDS; i++)
        f[i] = field(&p, end, control[i]);

    cJSON *arr = cJSON_CreateArray(), *rec = cJSON_CreateObject();
    for (int i = 0; i < N_FIELDS; i++) {
        if (i < 2 && numeric_ids && f[i][0])
            cJSON_AddNumberToObject(rec, keys[i], strtod(f[i], NULL));
        else
            cJSON_AddStringToObject(rec, keys[i], f[i]);
    }
    cJSON_AddItemToArray(arr, rec);
    char *json = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    if (json) {
        ts_tune_list l = {0};
        uint32_t added = 0, without = 0;
        if (ts_ingest_json(json, strlen(json), "fuzz.json", &l, &added, &without) == TS_OK)
            check(&l, added, f[6]);
        ts_tunes_free(&l);
        free(json);
    }

    size_t len = 0, cap = 0;
    char *csv = NULL;
    for (int i = 0; i < N_FIELDS; i++)
        csv_quote(&csv, &len, &cap, keys[i], i == N_FIELDS - 1);
    for (int i = 0; i < N_FIELDS; i++)
        csv_quote(&csv, &len, &cap, f[i], i == N_FIELDS - 1);
    ts_tune_list l = {0};
    uint32_t added = 0, without = 0;
    if (ts_ingest_csv(csv, len, "fuzz.csv", &l, &added, &without) == TS_OK) check(&l, added, f[6]);
    ts_tunes_free(&l);
    free(csv);
    for (int i = 0; i < N_FIELDS; i++)
        free(f[i]);
    return 0;
}
