/*
 * gemm_plan.c — shape classes, the tile list, untuned defaults and the tuning file (see
 * gemm_plan.h).
 */
#include "backends/gemm_plan.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/clblast_params.h"
#include "backends/peak_cache.h"
#include "util/fsutil.h"

#define TUNE_FORMAT 1
#define TUNE_DIR    "tune" /* <cache>/tune/<backend>-<device>.json */

extern const char *ts_version;

/* {WGN, WGM, TN, TM, TK}. Local memory: 2 x TK x (WGM*TM + WGN*TN) floats (double buffer). */
const ts_gemm_tile ts_gemm_tiles[TS_GEMM_TILES] = {
    {16, 16, 4, 4, 16}, /* 64 x 64: the general GPU tile */
    {16, 16, 8, 8, 8},  /* 128 x 128: large products on big GPUs */
    {16, 8, 4, 8, 16},  /* 64 x 64 with taller register blocks */
    {32, 8, 4, 4, 16},  /* 32 x 128: wide, short C (skinny M) */
    {8, 8, 4, 4, 16},   /* 32 x 32: small products, CPU devices */
    {8, 8, 2, 2, 16},   /* 16 x 16: many small groups */
};

const int ts_gemm_split_choices[TS_GEMM_SPLITS] = {1, 4, 8};

static const char *const class_names[TS_GEMM_CLASSES] = {"regular", "skinny", "deepk", "batched"};

const char *ts_gemm_class_name(ts_gemm_class c) {
    return c < TS_GEMM_CLASSES ? class_names[c] : "?";
}

ts_gemm_class ts_gemm_classify(int M, int N, int K, int batch) {
    if (batch > 1) return TS_GEMM_BATCHED;
    int wide = M > N ? M : N;
    if (K >= 4 * wide) return TS_GEMM_DEEPK;
    if (M <= 64 || N <= 64) return TS_GEMM_SKINNY;
    return TS_GEMM_REGULAR;
}

ts_gemm_choice ts_gemm_pick(const ts_gemm_plan *plan, int M, int N, int K, int batch) {
    if (plan->forced) return plan->force;
    return plan->cls[ts_gemm_classify(M, N, K, batch)];
}

int ts_gemm_splits(const ts_gemm_choice *c, int K) {
    int s = c->split_k < 1 ? 1 : c->split_k;
    int min_cols = 2 * ts_gemm_tiles[c->tile].tk;
    while (s > 1 && K / s < min_cols)
        s--;
    return s;
}

void ts_gemm_defaults(const ts_gemm_facts *f, int has_builtin_fast, ts_gemm_plan *out) {
    ts_gemm_choice builtin = {TS_GEMM_BUILTIN, 0, 1, 0};
    out->ran_variant = -1;
    /* The tile from the device: 64x64 needs 2 x 2 x 16 x 64 floats of local memory (16 KiB);
     * CPU devices (and small local memories) do better with more, smaller groups. */
    int tile = 0;
    if (f->is_cpu || f->local_mem_bytes < 16384) tile = 4;
    ts_gemm_choice tiled = {TS_GEMM_TILED, tile, 1, 0};
    for (int c = 0; c < TS_GEMM_CLASSES; c++)
        out->cls[c] = has_builtin_fast ? builtin : tiled;
    /* Products with a deep K and a small C leave most compute units idle unless K is split:
     * aim for about two groups per compute unit. */
    if (!f->is_cpu && f->compute_units >= 8) {
        out->cls[TS_GEMM_DEEPK] = tiled;
        out->cls[TS_GEMM_DEEPK].split_k = f->compute_units >= 64 ? 8 : 4;
    }
    for (int c = 0; c < TS_GEMM_CLASSES; c++) {
        out->untuned[c] = out->cls[c];
        out->ours[c] = out->cls[c].kernel == TS_GEMM_TILED ? out->cls[c] : tiled;
    }
}

/* "TILE" or "TILE:SPLIT" (the part after "tiled:") into c; 0 when malformed or out of range. */
static int parse_forced_tile(const char *s, ts_gemm_choice *c) {
    char *end;
    long tile = strtol(s, &end, 10), split = 1;
    if (end == s) return 0;
    if (*end == ':') {
        const char *k = end + 1;
        split = strtol(k, &end, 10);
        if (end == k) return 0;
    }
    if (*end || tile < 0 || tile >= TS_GEMM_TILES || split < 1 || split > 64) return 0;
    c->tile = (int)tile;
    c->split_k = (int)split;
    return 1;
}

int ts_gemm_env_force(ts_gemm_plan *plan, char *why, size_t why_cap) {
    const char *env = getenv("TUNESCALE_GEMM");
    if (!env || !*env) return 1;
    ts_gemm_choice c = {TS_GEMM_TILED, plan->ours[TS_GEMM_REGULAR].tile, 1, 0};
    char *end;
    long v = !strncmp(env, "builtin:", 8) ? strtol(env + 8, &end, 10) : -1;
    int variant_ok =
        v == 0 || (v > 0 && v < TS_GEMM_VARIANTS_MAX && (plan->variants >> (v - 1) & 1));
    if (!strcmp(env, "builtin")) {
        c = (ts_gemm_choice){TS_GEMM_BUILTIN, 0, 1, 0};
    } else if (v >= 0 && end != env + 8 && !*end && variant_ok) {
        c = (ts_gemm_choice){TS_GEMM_BUILTIN, 0, 1, (int)v};
    } else if (strcmp(env, "tiled") != 0 &&
               (strncmp(env, "tiled:", 6) != 0 || !parse_forced_tile(env + 6, &c))) {
        snprintf(why, why_cap,
                 "TUNESCALE_GEMM must be builtin, builtin:VARIANT (one this device runs), tiled, "
                 "tiled:TILE or tiled:TILE:SPLIT (TILE 0-%d, SPLIT 1-64), not '%s'; unset it for "
                 "the tuned plan",
                 TS_GEMM_TILES - 1, env);
        return 0;
    }
    plan->forced = 1;
    plan->force = c;
    return 1;
}

int ts_gemm_tuning_path(const char *backend, const char *device, char *out, size_t cap) {
    return ts_cache_file_path(TUNE_DIR, backend, device, out, cap);
}

/* One class's choice from its JSON object; 0 when a field is missing or out of range. */
static int parse_choice(const cJSON *o, ts_gemm_choice *c) {
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kernel");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "tile");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "split_k");
    if (!cJSON_IsString(k) || !cJSON_IsNumber(t) || !cJSON_IsNumber(s)) return 0;
    if (t->valueint < 0 || t->valueint >= TS_GEMM_TILES || s->valueint < 1 || s->valueint > 64)
        return 0;
    if (!strcmp(k->valuestring, "builtin"))
        c->kernel = TS_GEMM_BUILTIN;
    else if (!strcmp(k->valuestring, "tiled"))
        c->kernel = TS_GEMM_TILED;
    else
        return 0;
    c->tile = t->valueint;
    c->split_k = s->valueint;
    /* a built-in variant: CLBlast parameters only of this build's list (OpenCL), a variant
     * index only in range (Vulkan; the backend checks that its device runs it) */
    const cJSON *clb = cJSON_GetObjectItemCaseSensitive(o, "clblast");
    const cJSON *var = cJSON_GetObjectItemCaseSensitive(o, "variant");
    if (clb && var) return 0;
    c->variant = 0;
    if (clb) c->variant = ts_clblast_set_parse(clb);
    if (var)
        c->variant = cJSON_IsNumber(var) && var->valueint < TS_GEMM_VARIANTS_MAX &&
                             var->valuedouble == var->valueint
                         ? var->valueint
                         : 0;
    return (!clb && !var) || (c->variant > 0 && c->kernel == TS_GEMM_BUILTIN);
}

static int str_is(const cJSON *j, const char *key, const char *want) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) && !strcmp(v->valuestring, want);
}

int ts_gemm_tuning_load(const char *backend, const char *device, const char *driver,
                        ts_gemm_plan *plan, char *why, size_t why_cap) {
    char path[4096];
    why[0] = '\0';
    if (!ts_gemm_tuning_path(backend, device, path, sizeof path) || !ts_is_file(path)) return 0;
    cJSON *j = ts_read_json(path);
    if (!j) { /* the reader's message names the file and says what is wrong with it */
        snprintf(why, why_cap, "%s", ts_last_error());
        ts_clear_error();
        return -1;
    }
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "format");
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(j, "classes");
    int rc = 1;
    ts_gemm_choice got[TS_GEMM_CLASSES];
    if (!cJSON_IsNumber(f) || f->valueint != TUNE_FORMAT || !cJSON_IsObject(classes)) {
        snprintf(why, why_cap, "%s is not a tuning file of this format (corrupt?)", path);
        rc = -1;
    } else if (!str_is(j, "backend", backend) || !str_is(j, "device", device) ||
               !str_is(j, "driver", driver) || !str_is(j, "tunescale", ts_version)) {
        snprintf(why, why_cap,
                 "%s was tuned for another device, driver or tunescale version (run tunescale "
                 "tune again)",
                 path);
        rc = -1;
    }
    ts_gemm_choice ours[TS_GEMM_CLASSES];
    memcpy(ours, plan->ours, sizeof ours);
    for (int c = 0; rc == 1 && c < TS_GEMM_CLASSES; c++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(classes, class_names[c]);
        const cJSON *ou = cJSON_GetObjectItemCaseSensitive(o, "ours");
        if (cJSON_IsObject(ou) && !parse_choice(ou, &ours[c])) ou = NULL;
        if (!cJSON_IsObject(o) || !parse_choice(o, &got[c]) ||
            (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "ours")) && !ou)) {
            snprintf(why, why_cap,
                     "%s: class '%s' is missing, out of range or names CLBlast parameters this "
                     "build does not try (corrupt?)",
                     path, class_names[c]);
            rc = -1;
        }
    }
    if (rc == 1) {
        memcpy(plan->cls, got, sizeof got);
        memcpy(plan->ours, ours, sizeof ours);
    }
    cJSON_Delete(j);
    return rc;
}

/* OpenCL names a variant by its CLBlast parameters (so that a file stays readable and a
 * changed list is caught), other backends by its index. */
static void add_choice(cJSON *o, const char *backend, const ts_gemm_choice *ch) {
    cJSON_AddStringToObject(o, "kernel", ch->kernel == TS_GEMM_TILED ? "tiled" : "builtin");
    cJSON_AddNumberToObject(o, "tile", ch->tile);
    cJSON_AddNumberToObject(o, "split_k", ch->split_k);
    if (ch->kernel != TS_GEMM_BUILTIN || ch->variant <= 0) return;
    if (strcmp(backend, "opencl") != 0)
        cJSON_AddNumberToObject(o, "variant", ch->variant);
    else if (ch->variant <= TS_CLBLAST_SETS)
        cJSON_AddItemToObject(o, "clblast", ts_clblast_set_json(&ts_clblast_sets[ch->variant - 1]));
}

ts_status ts_gemm_tuning_store(const char *backend, const char *device, const char *driver,
                               const ts_gemm_plan *plan, const double *gflops) {
    char path[4096];
    cJSON *j;
    ts_status st =
        ts_cache_record_begin(TUNE_DIR, TUNE_FORMAT, backend, device, path, sizeof path, &j);
    if (st != TS_OK) return st;
    cJSON_AddStringToObject(j, "driver", driver);
    cJSON_AddStringToObject(j, "tunescale", ts_version);
    cJSON *classes = cJSON_AddObjectToObject(j, "classes");
    if (!classes) {
        cJSON_Delete(j);
        return ts_set_error_status(TS_ENOMEM, "out of memory writing %s", path);
    }
    for (int c = 0; c < TS_GEMM_CLASSES; c++) {
        cJSON *o = cJSON_AddObjectToObject(classes, class_names[c]);
        const ts_gemm_choice *ch = &plan->cls[c];
        if (!o) continue;
        add_choice(o, backend, ch);
        if (gflops) cJSON_AddNumberToObject(o, "gflops", gflops[c]);
        cJSON *ou = cJSON_AddObjectToObject(o, "ours");
        if (ou) add_choice(ou, backend, &plan->ours[c]);
    }
    return ts_write_json_atomic(path, j);
}

int ts_gemm_tuning_state(const char *backend, const char *device, const char *driver) {
    char path[4096];
    if (!ts_gemm_tuning_path(backend, device, path, sizeof path) || !ts_is_file(path)) return 0;
    cJSON *j = ts_read_json(path);
    if (!j) ts_clear_error(); /* an unreadable file is simply not a valid tuning */
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "driver");
    int ok = j && str_is(j, "backend", backend) && str_is(j, "device", device) &&
             str_is(j, "tunescale", ts_version) && cJSON_IsString(d) &&
             strstr(d->valuestring, driver) != NULL;
    int clb = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "classes")) clb |=
        cJSON_GetObjectItemCaseSensitive(c, "clblast") != NULL;
    cJSON_Delete(j);
    return ok ? 1 + clb : -1;
}

int ts_gemm_variant_unfit(const ts_gemm_plan *plan) {
    for (int c = 0; c < TS_GEMM_CLASSES; c++) {
        const ts_gemm_choice *ch = &plan->cls[c];
        int k = ch->kernel == TS_GEMM_BUILTIN ? ch->variant : 0;
        if (k > 0 && !(plan->variants >> (k - 1) & 1)) return c;
    }
    return -1;
}

void ts_gemm_trial_end(ts_backend *be) {
#ifdef TS_HAVE_OPENCL
    if (be->impl && !strcmp(be->impl->name, "opencl")) ocl_gemm_trial_end(be);
#else
    (void)be;
#endif
}

ts_gemm_plan *ts_gemm_plan_of(ts_backend *be) {
    const char *name = be->impl ? be->impl->name : "";
#ifdef TS_HAVE_OPENCL
    if (!strcmp(name, "opencl")) return ocl_gemm_plan(be);
#endif
#ifdef TS_HAVE_VULKAN
    if (!strcmp(name, "vulkan")) return vk_gemm_plan(be);
#endif
    (void)name;
    return NULL;
}
