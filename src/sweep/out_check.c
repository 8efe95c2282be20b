/*
 * out_check.c — a sweep folder holds one result set. A second sweep written into it (another
 * preset, another data set) would overwrite the manifest and leave its runs beside the first
 * one's, and the report would fit them together; so such an --out is refused before anything
 * in it is touched, unless --force says to replace the set.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/preset.h"
#include "sweep/sweep.h"
#include "util/fsutil.h"

static cJSON *read_json(const char *dir, const char *name) {
    char path[4200], *text = NULL;
    size_t len;
    ts_path_join(path, sizeof path, dir, name);
    if (!ts_is_file(path) || ts_read_file(path, &text, &len) != TS_OK) return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    return j;
}

static const char *field(const cJSON *o, const char *key) {
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : "";
}

ts_status ts_sweep_check_out(const ts_sweep_options *o) {
    /* a bad preset is a usage error found before --out is created */
    ts_preset preset;
    ts_status st = ts_preset_load(o->preset, &preset);
    if (st == TS_ERR) { /* malformed: the plan words it as bad input */
        ts_preset_free(&preset);
        return TS_OK;
    }
    if (st != TS_OK) return st;
    cJSON *m = read_json(o->out_dir, "sweep.json");
    if (!m) { /* a new folder, or one without a manifest: nothing to mix with */
        ts_preset_free(&preset);
        return TS_OK;
    }
    cJSON *ds = read_json(o->data_dir, "dataset.json");
    const char *old_preset = field(m, "preset"), *old_hash = field(m, "dataset_hash");
    const char *hash = field(ds, "dataset_hash");
    char why[512] = "";
    if (strcmp(old_preset, preset.name))
        snprintf(why, sizeof why, "preset %s, not %s", old_preset, preset.name);
    else if (ds && strcmp(old_hash, hash))
        snprintf(why, sizeof why, "data set %.12s, not %.12s (%s)", old_hash, hash, o->data_dir);
    if (why[0] && !o->force)
        st = ts_set_error_status(TS_EUSAGE,
                                 "%s: its sweep.json names %s; a folder holds one result set: "
                                 "use another --out, or --force to replace this set",
                                 o->out_dir, why);
    else if (why[0] && !o->quiet)
        fprintf(stderr, "tunescale sweep: --force: replacing the result set in %s (was %s)\n",
                o->out_dir, why);
    ts_preset_free(&preset);
    cJSON_Delete(ds);
    cJSON_Delete(m);
    return st;
}
