/* dataset_json.c — reading and writing dataset.json (see dataset_json.h). */
#include "data/dataset_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"

const char *const ts_dataset_file_keys[TS_DATASET_N_FILES] = {"vocab", "train", "val", "test",
                                                              "index"};

/* The child `key` of `parent` (named `where` in messages) when it has the wanted type. */
static const cJSON *field(const ts_dataset *d, const cJSON *parent, const char *where,
                          const char *key, cJSON_bool (*is)(const cJSON *), const char *type,
                          ts_status *st) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (*st == TS_OK && !is(v))
        *st = ts_set_error("%s: \"%s%s\" is %s, not %s (re-run tunescale data prepare)", d->path,
                           where, key, v ? "of the wrong type" : "missing", type);
    return *st == TS_OK ? v : NULL;
}

static double count(const ts_dataset *d, const cJSON *parent, const char *where, const char *key,
                    ts_status *st) {
    const cJSON *v = field(d, parent, where, key, cJSON_IsNumber, "a number", st);
    if (v && !(v->valuedouble >= 0 && v->valuedouble <= 9.007199254740992e15 &&
               v->valuedouble == floor(v->valuedouble)))
        *st = ts_set_error("%s: \"%s%s\" is %g, not a count (re-run tunescale data prepare)",
                           d->path, where, key, v->valuedouble);
    return *st == TS_OK ? v->valuedouble : 0;
}

static const char *text(const ts_dataset *d, const cJSON *parent, const char *where,
                        const char *key, ts_status *st) {
    const cJSON *v = field(d, parent, where, key, cJSON_IsString, "a string", st);
    return v ? v->valuestring : NULL;
}

ts_status ts_dataset_read(const char *dir, ts_dataset *d) {
    memset(d, 0, sizeof *d);
    ts_path_join(d->path, sizeof d->path, dir, "dataset.json");
    if (!ts_is_file(d->path))
        return ts_set_error_status(
            TS_EUSAGE, "%s: no dataset.json (run tunescale data prepare --out %s first)", dir, dir);
    char *buf;
    size_t len;
    if (ts_read_file(d->path, &buf, &len) != TS_OK) return TS_ERR;
    d->doc = cJSON_ParseWithLength(buf, len);
    free(buf);
    if (!cJSON_IsObject(d->doc)) {
        ts_dataset_free(d);
        return ts_set_error("%s: not JSON, or not a tunescale dataset.json (re-run tunescale data "
                            "prepare --out %s)",
                            d->path, dir);
    }
    ts_status st = TS_OK;
    double vocab = count(d, d->doc, "", "vocab_size", &st);
    if (st == TS_OK && (vocab < 5 || vocab > 65536)) /* 4 specials and a character; uint16 ids */
        st = ts_set_error("%s: \"vocab_size\" is %g, outside [5, 65536]", d->path, vocab);
    d->vocab_size = (int)vocab;
    d->hash = text(d, d->doc, "", "dataset_hash", &st);
    d->cache_key = text(d, d->doc, "", "cache_key", &st);
    const cJSON *opts = field(d, d->doc, "", "options", cJSON_IsObject, "an object", &st);
    const char *framing = text(d, opts, "options.", "framing", &st);
    d->newline_framing = framing && !strcmp(framing, "newline");
    const cJSON *splits = field(d, d->doc, "", "splits", cJSON_IsObject, "an object", &st);
    for (int s = 0; s < TS_N_SPLITS && st == TS_OK; s++) {
        char where[32];
        snprintf(where, sizeof where, "splits.%s.", ts_split_names[s]);
        const cJSON *sp =
            field(d, splits, "splits.", ts_split_names[s], cJSON_IsObject, "an object", &st);
        d->split_tokens[s] = count(d, sp, where, "tokens", &st);
    }
    const cJSON *files = field(d, d->doc, "", "files", cJSON_IsObject, "an object", &st);
    for (int i = 0; i < TS_DATASET_N_FILES && st == TS_OK; i++) {
        char where[32];
        snprintf(where, sizeof where, "files.%s.", ts_dataset_file_keys[i]);
        const cJSON *f =
            field(d, files, "files.", ts_dataset_file_keys[i], cJSON_IsObject, "an object", &st);
        d->file_name[i] = text(d, f, where, "file", &st);
        d->file_sha256[i] = text(d, f, where, "sha256", &st);
        /* the artefacts lie beside dataset.json: a path elsewhere is not one we wrote */
        if (st == TS_OK && (strchr(d->file_name[i], '/') || !strcmp(d->file_name[i], "..")))
            st = ts_set_error("%s: \"%sfile\" is '%s', not a file name in %s", d->path, where,
                              d->file_name[i], dir);
    }
    if (st != TS_OK) ts_dataset_free(d);
    return st;
}

void ts_dataset_free(ts_dataset *d) {
    cJSON_Delete(d->doc);
    d->doc = NULL;
    d->hash = d->cache_key = NULL;
    for (int i = 0; i < TS_DATASET_N_FILES; i++)
        d->file_name[i] = d->file_sha256[i] = NULL;
}

ts_status ts_dataset_write(const char *dir, const cJSON *doc) {
    char path[4200];
    ts_path_join(path, sizeof path, dir, "dataset.json");
    char *out = cJSON_Print(doc);
    ts_status st = out ? ts_write_file_atomic(path, out, strlen(out))
                       : ts_set_error("out of host memory writing %s", path);
    free(out);
    return st;
}
