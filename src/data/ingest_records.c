/*
 * ingest_records.c — tune records (The Session's format) from JSON arrays and CSV tables.
 *
 * A record's `abc` holds only the tune body; the header is rebuilt from its fields:
 *   X:<setting_id>  T:<name>  R:<type>  M:<meter>  L:1/8  K:<mode as an ABC key>
 * L:1/8 is what The Session itself shows for every setting.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/ingest.h"

typedef struct {
    const char *tune_id, *setting_id, *name, *type, *meter, *mode, *abc;
} tune_record;

/* "Gmajor" -> "Gmaj", "Edorian" -> "Edor", "F#minor" -> "F#min"; other text passes through. */
static void mode_to_key(const char *mode, char *out, size_t cap) {
    size_t n = 0;
    if (mode[0] >= 'A' && mode[0] <= 'G') {
        n = 1;
        if (mode[1] == '#' || mode[1] == 'b') n = 2;
        if (strlen(mode + n) >= 3) {
            snprintf(out, cap, "%.*s%c%c%c", (int)n, mode, tolower((unsigned char)mode[n]),
                     tolower((unsigned char)mode[n + 1]), tolower((unsigned char)mode[n + 2]));
            return;
        }
    }
    snprintf(out, cap, "%s", mode);
}

static int has(const char *s) {
    return s && s[0];
}

/* Appends printf output to text[*n..cap); the caller sized cap for every field, so running out
 * is a sizing bug, reported rather than written past the end. */
static int append(char *text, size_t cap, size_t *n, const char *fmt, const char *arg) {
    if (*n >= cap) return -1;
    int w = snprintf(text + *n, cap - *n, fmt, arg);
    if (w < 0 || (size_t)w >= cap - *n) return -1;
    *n += (size_t)w;
    return 0;
}

/* Builds "X:…\nT:…\n…K:…\n<body>" (or takes abc as it is if it already starts with X:). */
static ts_status add_record(const tune_record *r, const char *source, uint32_t index,
                            ts_tune_list *out) {
    const char *body = r->abc;
    while (*body == '\n' || *body == '\r')
        body++;
    /* Every field that can reach the header counts towards the size (setting_id and tune_id
     * too: a 200 kB id once overran the buffer), plus room for the fixed labels. */
    const char *fields[] = {r->setting_id, r->tune_id, r->name, r->type, r->meter, r->mode};
    size_t cap = strlen(body) + 256;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (has(fields[i])) cap += strlen(fields[i]);
    char *text = malloc(cap);
    if (!text) return ts_set_error_status(TS_ENOMEM, "%s: out of host memory", source);
    size_t n = 0;
    int bad = 0;
    if (strncmp(body, "X:", 2) != 0) {
        const char *x = has(r->setting_id) ? r->setting_id : has(r->tune_id) ? r->tune_id : NULL;
        char num[16];
        snprintf(num, sizeof num, "%u", index + 1);
        bad |= append(text, cap, &n, "X:%s\n", x ? x : num);
        if (has(r->name)) bad |= append(text, cap, &n, "T:%s\n", r->name);
        if (has(r->type)) bad |= append(text, cap, &n, "R:%s\n", r->type);
        if (has(r->meter)) bad |= append(text, cap, &n, "M:%s\n", r->meter);
        bad |= append(text, cap, &n, "%s", "L:1/8\n");
        if (has(r->mode)) {
            char key[64];
            mode_to_key(r->mode, key, sizeof key);
            bad |= append(text, cap, &n, "K:%s\n", key);
        }
    }
    bad |= append(text, cap, &n, "%s", body);
    if (bad) {
        free(text);
        return ts_set_error("%s: record %u: header does not fit (internal sizing error)", source,
                            index + 1);
    }
    char group[512];
    if (has(r->tune_id))
        snprintf(group, sizeof group, "id:%s", r->tune_id);
    else
        snprintf(group, sizeof group, "record:%s#%u", source, index);
    return ts_tunes_push(out, text, group, source, index);
}

/* ---- JSON ------------------------------------------------------------------------------- */

/* A field as text: strings as they are, numbers without a fractional part as integers. */
static const char *json_field(const cJSON *obj, const char *key, char *buf, size_t cap) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsNumber(v)) {
        snprintf(buf, cap, "%.0f", v->valuedouble);
        return buf;
    }
    return NULL;
}

ts_status ts_ingest_json(const char *text, size_t len, const char *source, ts_tune_list *out,
                         uint32_t *added, uint32_t *without_abc) {
    *added = 0;
    *without_abc = 0;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *where = cJSON_GetErrorPtr();
        long off = where && where >= text && where <= text + len ? (long)(where - text) : -1;
        return ts_set_error("%s: not valid JSON (parse error near byte %ld)", source, off);
    }
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return ts_set_error("%s: JSON is not an array of tune records (expected [ {\"tune_id\": "
                            "…, \"abc\": …}, … ])",
                            source);
    }
    uint32_t index = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        char b1[32], b2[32];
        tune_record r = {0};
        if (cJSON_IsObject(item)) {
            r.tune_id = json_field(item, "tune_id", b1, sizeof b1);
            r.setting_id = json_field(item, "setting_id", b2, sizeof b2);
            r.name = json_field(item, "name", NULL, 0);
            r.type = json_field(item, "type", NULL, 0);
            r.meter = json_field(item, "meter", NULL, 0);
            r.mode = json_field(item, "mode", NULL, 0);
            r.abc = json_field(item, "abc", NULL, 0);
        }
        if (!has(r.abc)) {
            (*without_abc)++;
        } else {
            ts_status st = add_record(&r, source, index, out);
            if (st != TS_OK) {
                cJSON_Delete(root);
                return st;
            }
            (*added)++;
        }
        index++;
    }
    cJSON_Delete(root);
    return TS_OK;
}

/* ---- CSV (RFC 4180: quoted fields may hold commas, quotes as "", and newlines) ---------- */

typedef struct {
    char **fields;
    size_t n, cap;
} csv_row;

static void row_clear(csv_row *row) {
    for (size_t i = 0; i < row->n; i++)
        free(row->fields[i]);
    row->n = 0;
}

/* Parses one row starting at *pos; returns 0 at end of input, -1 on error (unclosed quote), -2
 * when out of memory. */
static int csv_next_row(const char *s, size_t len, size_t *pos, csv_row *row) {
    row_clear(row);
    if (*pos >= len) return 0;
    size_t i = *pos;
    char *field = malloc(len - i + 1);
    if (!field) return -2;
    for (;;) {
        size_t n = 0;
        int quoted = i < len && s[i] == '"';
        if (quoted) {
            i++;
            for (;;) {
                if (i >= len) {
                    free(field);
                    return -1;
                }
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        field[n++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                field[n++] = s[i++];
            }
        }
        while (i < len && s[i] != ',' && s[i] != '\n' && s[i] != '\r')
            field[n++] = s[i++];
        field[n] = '\0';
        if (row->n == row->cap) {
            size_t cap = row->cap ? 2 * row->cap : 16;
            char **grown = realloc(row->fields, cap * sizeof *row->fields);
            if (!grown) {
                free(field);
                return -2;
            }
            row->fields = grown, row->cap = cap;
        }
        if (!(row->fields[row->n] = strdup(field))) {
            free(field);
            return -2;
        }
        row->n++;
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        if (i < len && s[i] == '\r') i++;
        if (i < len && s[i] == '\n') i++;
        break;
    }
    free(field);
    *pos = i;
    return 1;
}

ts_status ts_ingest_csv(const char *text, size_t len, const char *source, ts_tune_list *out,
                        uint32_t *added, uint32_t *without_abc) {
    *added = 0;
    *without_abc = 0;
    csv_row row = {0};
    size_t pos = 0;
    int rc = csv_next_row(text, len, &pos, &row);
    enum { C_TUNE, C_SETTING, C_NAME, C_TYPE, C_METER, C_MODE, C_ABC, C_COUNT };
    static const char *names[C_COUNT] = {"tune_id", "setting_id", "name", "type",
                                         "meter",   "mode",       "abc"};
    int col[C_COUNT];
    for (int c = 0; c < C_COUNT; c++)
        col[c] = -1;
    for (size_t i = 0; rc == 1 && i < row.n; i++)
        for (int c = 0; c < C_COUNT; c++)
            if (!strcmp(row.fields[i], names[c])) col[c] = (int)i;
    ts_status st = TS_OK;
    if (rc == -2) {
        st = ts_set_error_status(TS_ENOMEM, "%s: out of host memory", source);
        goto done;
    }
    if (rc != 1 || col[C_ABC] < 0) {
        st = ts_set_error("%s: CSV needs a header row with an 'abc' column (and tune_id, name, "
                          "type, meter, mode)",
                          source);
        goto done;
    }
    uint32_t index = 0;
    while ((rc = csv_next_row(text, len, &pos, &row)) == 1) {
        if (row.n == 1 && !row.fields[0][0]) continue; /* blank line */
        const char *f[C_COUNT];
        for (int c = 0; c < C_COUNT; c++)
            f[c] = col[c] >= 0 && (size_t)col[c] < row.n ? row.fields[col[c]] : NULL;
        tune_record r = {f[C_TUNE],  f[C_SETTING], f[C_NAME], f[C_TYPE],
                         f[C_METER], f[C_MODE],    f[C_ABC]};
        if (!has(r.abc)) {
            (*without_abc)++;
        } else {
            if ((st = add_record(&r, source, index, out)) != TS_OK) goto done;
            (*added)++;
        }
        index++;
    }
    if (rc == -2) st = ts_set_error_status(TS_ENOMEM, "%s: out of host memory", source);
    if (rc == -1) st = ts_set_error("%s: CSV has an unclosed quoted field", source);
done:
    row_clear(&row);
    free(row.fields);
    return st;
}
