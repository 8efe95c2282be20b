/* preset.c — reading sweep presets (format in preset.h and bench/presets/README.md). */
#define _GNU_SOURCE
#include "sweep/preset.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/nearest.h"
#include "util/fsutil.h"

const char *ts_preset_dir(void) {
    static char dir[PATH_MAX + 64];
    const char *env = getenv("TUNESCALE_PRESETS");
    if (env && *env) return env;
    /* An installed or built binary first looks beside itself (build/../bench/presets), so a
     * moved checkout still finds its own presets; the source tree it was built from is the
     * fallback. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(dir, sizeof dir, "%s/../bench/presets", exe);
        if (ts_is_dir(dir)) return dir;
    }
    snprintf(dir, sizeof dir, "%s/bench/presets", TS_SOURCE_DIR);
    return dir;
}

static const char *const train_keys[] = {"steps",   "tokens", "epochs", "batch",        "seq_len",
                                         "stride",  "lr",     "warmup", "weight_decay", "clip",
                                         "dropout", "seed",   "seeds",  "precision",    NULL};
static const char *const shape_keys[] = {"name", "family",      "d_model",    "n_layers", "n_heads",
                                         "d_ff", "max_seq_len", "vocab_size", "model",    NULL};

static int in_list(const char *k, const char *const *list) {
    for (int i = 0; list[i]; i++)
        if (!strcmp(k, list[i])) return 1;
    return 0;
}

/* Each training key's range: whole numbers where the trainer counts (a "steps": 0.5 once ran a
 * whole epoch), and bounds that keep every value inside the type it lands in (a batch of 1e12
 * once wrapped to -2147483648). `open_lo`: the lower bound itself is refused. */
typedef struct {
    const char *key;
    double lo, hi;
    int whole, open_lo;
} key_range;

static const key_range ranges[] = {
    {"steps", 1, 1e12, 1, 0},       {"tokens", 1, 1e15, 0, 0},
    {"epochs", 0, 1e6, 0, 1},       {"batch", 1, 1 << 20, 1, 0},
    {"seq_len", 1, 1 << 20, 1, 0},  {"stride", 1, 1 << 20, 1, 0},
    {"lr", 0, 1e3, 0, 1},           {"warmup", 0, 1e12, 1, 0},
    {"weight_decay", 0, 1e3, 0, 0}, {"clip", 0, 1e9, 0, 0},
    {"dropout", 0, 0.999, 0, 0},    {"seed", 0, 9007199254740992.0, 1, 0},
};

/* Checks one training value against its range; a usage error (exit 2) naming the key. */
static ts_status check_range(const char *where, const char *k, double v) {
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        const key_range *r = &ranges[i];
        if (strcmp(k, r->key)) continue;
        int low = r->open_lo ? !(v > r->lo) : !(v >= r->lo);
        if (low || !(v <= r->hi) || (r->whole && floor(v) != v))
            return ts_set_error_status(TS_EUSAGE,
                                       "%s: \"%s\" is %.15g: it must be %s%s %.15g to %.15g", where,
                                       k, v, r->whole ? "a whole number" : "a number",
                                       r->open_lo ? " above" : " from", r->lo, r->hi);
        return TS_OK;
    }
    return TS_OK;
}

/* A "tokens" list: the budgets one model is trained for, each as its own run. */
typedef struct {
    double v[TS_PRESET_MAX_BUDGETS];
    int n;
} budget_list;

/* Budgets become part of run names (-d<tokens>), so each must be a whole number and appear once;
 * the bound keeps the name short and the count exact in a double. */
static ts_status parse_budgets(const cJSON *a, budget_list *b, const char *where) {
    int n = cJSON_GetArraySize(a);
    if (n < 1 || n > TS_PRESET_MAX_BUDGETS)
        return ts_set_error("%s: a \"tokens\" list must hold 1 to %d budgets", where,
                            TS_PRESET_MAX_BUDGETS);
    b->n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        double v = cJSON_IsNumber(it) ? it->valuedouble : NAN;
        if (!(v >= 1 && v <= 1e15) || v != floor(v))
            return ts_set_error("%s: \"tokens\" budgets must be whole numbers from 1 to 1e15",
                                where);
        for (int i = 0; i < b->n; i++)
            if (b->v[i] == v)
                return ts_set_error("%s: \"tokens\" lists the budget %.0f twice", where, v);
        b->v[b->n++] = v;
    }
    return TS_OK;
}

/* Applies the training keys of object o over hp; rejects wrong types and unknown keys so that a
 * typo in a preset ("token": …) is an error, not a silently different sweep. A "tokens" list goes
 * to budgets; any other length given here clears the list it would otherwise inherit. */
static ts_status apply_train_keys(const cJSON *o, ts_run_hparams *hp, budget_list *budgets,
                                  const char *where, int allow_shape) {
    const cJSON *it;
    int lengths = 0;
    cJSON_ArrayForEach(it, o) {
        const char *k = it->string;
        int train = in_list(k, train_keys);
        if (!train && !(allow_shape && in_list(k, shape_keys)))
            return ts_set_error("%s: unknown key \"%s\"", where, k);
        if (!train || !strcmp(k, "seeds")) continue;
        if (!strcmp(k, "precision")) { /* the one string among the training keys */
            if (!cJSON_IsString(it) || !ts_precision_parse(it->valuestring, &hp->precision))
                return ts_set_error_status(TS_EUSAGE, "%s: \"precision\" must be %s", where,
                                           ts_precision_names());
            hp->precision_set = 1;
            continue;
        }
        if (!strcmp(k, "tokens") && cJSON_IsArray(it)) {
            if (parse_budgets(it, budgets, where) != TS_OK) return TS_ERR;
            hp->steps = 0;
            hp->tokens = hp->epochs = 0;
            lengths++;
            continue;
        }
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
            return ts_set_error_status(TS_EUSAGE, "%s: \"%s\" must be a number", where, k);
        double v = it->valuedouble;
        ts_status st = check_range(where, k, v);
        if (st != TS_OK) return st;
        if (!strcmp(k, "steps") || !strcmp(k, "tokens") || !strcmp(k, "epochs")) {
            hp->steps = 0;
            hp->tokens = hp->epochs = 0;
            budgets->n = 0;
            lengths++;
        }
        if (!strcmp(k, "steps")) hp->steps = (long)v;
        if (!strcmp(k, "tokens")) hp->tokens = v;
        if (!strcmp(k, "epochs")) hp->epochs = v;
        if (!strcmp(k, "batch")) hp->batch = (int)v;
        if (!strcmp(k, "seq_len")) hp->seq_len = (int)v;
        if (!strcmp(k, "stride")) hp->stride = (int)v;
        if (!strcmp(k, "lr")) hp->lr = v;
        if (!strcmp(k, "warmup")) hp->warmup = (long)v;
        if (!strcmp(k, "weight_decay")) hp->weight_decay = v;
        if (!strcmp(k, "clip")) hp->clip = v;
        if (!strcmp(k, "dropout")) hp->dropout = v;
        if (!strcmp(k, "seed")) hp->seed = (uint64_t)v;
    }
    if (lengths > 1)
        return ts_set_error("%s: give only one of \"steps\", \"tokens\" or \"epochs\"", where);
    return TS_OK;
}

/* The seeds to run: "seeds": [..] or "seed": n on the model, else the defaults'. */
static ts_status seeds_of(const cJSON *o, const cJSON *defaults, uint64_t *out, int cap, int *n,
                          const char *where) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "seeds");
    if (!s && !cJSON_GetObjectItemCaseSensitive(o, "seed") && defaults)
        s = cJSON_GetObjectItemCaseSensitive(defaults, "seeds");
    *n = 0;
    if (!s) return TS_OK;
    if (!cJSON_IsArray(s) || cJSON_GetArraySize(s) < 1 || cJSON_GetArraySize(s) > cap)
        return ts_set_error("%s: \"seeds\" must be an array of 1 to %d numbers", where, cap);
    const cJSON *it;
    cJSON_ArrayForEach(it, s) {
        if (!cJSON_IsNumber(it) || check_range(where, "seed", it->valuedouble) != TS_OK)
            return ts_set_error_status(
                TS_EUSAGE, "%s: \"seeds\" must hold whole numbers from 0 to 2^53", where);
        out[(*n)++] = (uint64_t)it->valuedouble;
    }
    return TS_OK;
}

static ts_status add_entry(ts_preset *p, const ts_preset_entry *e) {
    if (p->n_entries >= TS_PRESET_MAX_RUNS)
        return ts_set_error_status(TS_EUSAGE,
                                   "%s: more than %d runs (models x seeds); split the "
                                   "preset",
                                   p->path, TS_PRESET_MAX_RUNS);
    if (p->n_entries == p->cap) { /* doubling: 200k entries grown one by one took minutes */
        int cap = p->cap ? 2 * p->cap : 16;
        ts_preset_entry *grown = realloc(p->entries, (size_t)cap * sizeof *grown);
        if (!grown) return ts_set_error_status(TS_ENOMEM, "%s: out of host memory", p->path);
        p->entries = grown;
        p->cap = cap;
    }
    p->entries[p->n_entries++] = *e;
    return TS_OK;
}

static ts_status parse_model(ts_preset *p, const cJSON *m, const cJSON *defaults,
                             const ts_run_hparams *base, const budget_list *base_budgets,
                             int index) {
    char where[4200];
    snprintf(where, sizeof where, "%s: models[%d]", p->path, index);
    ts_preset_entry e;
    memset(&e, 0, sizeof e);
    e.hp = *base;
    budget_list budgets = *base_budgets;
    ts_status st = TS_OK;
    if (cJSON_IsString(m)) {
        if ((st = ts_model_config_lookup(m->valuestring, &e.cfg)) != TS_OK)
            return ts_set_error_status(st, "%s: %s", where, ts_last_error());
    } else if (cJSON_IsObject(m)) {
        const cJSON *named = cJSON_GetObjectItemCaseSensitive(m, "model");
        if (cJSON_IsString(named)) {
            if ((st = ts_model_config_lookup(named->valuestring, &e.cfg)) != TS_OK)
                return ts_set_error_status(st, "%s: %s", where, ts_last_error());
        } else {
            if ((st = ts_model_config_from_json(m, where, &e.cfg)) != TS_OK) return st;
            if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "name")))
                return ts_set_error("%s: a model shape needs a \"name\"", where);
            /* The shape alone, without training keys, is what the run's model file holds. */
            e.shape = cJSON_CreateObject();
            const cJSON *it;
            cJSON_ArrayForEach(it, m) if (in_list(it->string, shape_keys))
                cJSON_AddItemToObject(e.shape, it->string, cJSON_Duplicate(it, 1));
            e.cfg.vocab_size = e.cfg.vocab_size ? e.cfg.vocab_size : 1;
            if ((st = ts_model_config_validate(&e.cfg)) != TS_OK) {
                cJSON_Delete(e.shape);
                return ts_set_error_status(st, "%s: %s", where, ts_last_error());
            }
        }
        if ((st = apply_train_keys(m, &e.hp, &budgets, where, 1)) != TS_OK) {
            cJSON_Delete(e.shape);
            return st;
        }
    } else {
        return ts_set_error("%s: must be a model name or an object", where);
    }
    snprintf(e.model, sizeof e.model, "%s", e.cfg.name);
    for (int i = 0; i < p->n_entries; i++)
        if (!strcmp(p->entries[i].model, e.model) && p->entries[i].shape && e.shape &&
            !cJSON_Compare(p->entries[i].shape, e.shape, 1)) {
            cJSON_Delete(e.shape);
            return ts_set_error("%s: two different shapes are both named \"%s\"", where, e.model);
        }
    uint64_t seeds[64];
    int n_seeds = 0;
    if ((st = seeds_of(cJSON_IsObject(m) ? m : NULL, defaults, seeds, 64, &n_seeds, where)) !=
        TS_OK) {
        cJSON_Delete(e.shape);
        return st;
    }
    if (n_seeds == 0) seeds[n_seeds++] = e.hp.seed;
    /* Without a list the run keeps the model's name; with one, every budget gets its name. */
    int n_budgets = budgets.n ? budgets.n : 1;
    for (int b = 0; b < n_budgets && st == TS_OK; b++)
        for (int i = 0; i < n_seeds && st == TS_OK; i++) {
            ts_preset_entry one = e;
            one.hp.seed = seeds[i];
            if (budgets.n) {
                one.hp.tokens = budgets.v[b];
                one.budget_index = b;
                snprintf(one.label, sizeof one.label, "%s-d%.0f", e.model, budgets.v[b]);
            } else {
                snprintf(one.label, sizeof one.label, "%s", e.model);
            }
            one.shape = e.shape ? cJSON_Duplicate(e.shape, 1) : NULL;
            st = add_entry(p, &one);
            if (st != TS_OK) cJSON_Delete(one.shape);
        }
    cJSON_Delete(e.shape);
    return st;
}

static ts_status parse(ts_preset *p, const cJSON *j) {
    if (!cJSON_IsObject(j))
        return ts_set_error("%s: not a JSON object (see bench/presets/README.md)", p->path);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(j, "schema");
    if (schema &&
        (!cJSON_IsString(schema) || strncmp(schema->valuestring, "tunescale.preset/1", 18)))
        return ts_set_error("%s: schema must be \"tunescale.preset/1\"", p->path);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "description");
    if (name && (!cJSON_IsString(name) || !ts_safe_name(name->valuestring)))
        return ts_set_error_status(TS_EUSAGE, "%s: \"name\" %s", p->path, ts_safe_name_rule);
    if (cJSON_IsString(name)) snprintf(p->name, sizeof p->name, "%s", name->valuestring);
    if (cJSON_IsString(desc))
        snprintf(p->description, sizeof p->description, "%s", desc->valuestring);
    ts_run_hparams base;
    memset(&base, 0, sizeof base);
    base.warmup = -1;
    base.dropout = -1;
    base.weight_decay = -1;
    base.clip = -1;
    base.seed = 42;
    const cJSON *defaults = cJSON_GetObjectItemCaseSensitive(j, "defaults");
    char where[4200];
    snprintf(where, sizeof where, "%s: defaults", p->path);
    if (defaults && !cJSON_IsObject(defaults)) return ts_set_error("%s: must be an object", where);
    ts_status st;
    budget_list budgets = {.n = 0};
    if (defaults && (st = apply_train_keys(defaults, &base, &budgets, where, 0)) != TS_OK)
        return st;
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(j, "models");
    if (!cJSON_IsArray(models) || cJSON_GetArraySize(models) == 0)
        return ts_set_error("%s: \"models\" must be a non-empty array", p->path);
    if (cJSON_GetArraySize(models) > TS_PRESET_MAX_RUNS)
        return ts_set_error_status(TS_EUSAGE, "%s: \"models\" has more than %d entries", p->path,
                                   TS_PRESET_MAX_RUNS);
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, models) {
        if ((st = parse_model(p, it, defaults, &base, &budgets, i++)) != TS_OK) return st;
    }
    /* Budget by budget (stable, so models keep their order within one): a sweep stopped early
     * then holds every size at the first budgets rather than a few sizes at all of them. */
    for (int a = 1; a < p->n_entries; a++)
        for (int b = a; b > 0 && p->entries[b].budget_index < p->entries[b - 1].budget_index; b--) {
            ts_preset_entry t = p->entries[b];
            p->entries[b] = p->entries[b - 1];
            p->entries[b - 1] = t;
        }
    return TS_OK;
}

ts_status ts_preset_load(const char *name_or_file, ts_preset *out) {
    memset(out, 0, sizeof *out);
    if (strchr(name_or_file, '/') || ts_has_suffix(name_or_file, ".json"))
        snprintf(out->path, sizeof out->path, "%s", name_or_file);
    else
        snprintf(out->path, sizeof out->path, "%s/%s.json", ts_preset_dir(), name_or_file);
    if (!ts_is_file(out->path)) {
        if (!strchr(name_or_file, '/') && !ts_has_suffix(name_or_file, ".json")) {
            static const char *const presets[] = {"micro", "quick", "seed"};
            const char *near = ts_nearest_name(name_or_file, presets, 3);
            char hint[64] = "";
            if (near) snprintf(hint, sizeof hint, "; did you mean %s?", near);
            return ts_set_error_status(TS_EUSAGE,
                                       "unknown preset '%s' (no %s; presets: micro, quick, seed, "
                                       "or a FILE.json)%s",
                                       name_or_file, out->path, hint);
        }
        return ts_set_error_status(TS_EUSAGE, "%s: no such preset file", out->path);
    }
    struct stat sb;
    if (stat(out->path, &sb) == 0 && sb.st_size > TS_PRESET_MAX_BYTES)
        return ts_set_error_status(TS_EUSAGE, "%s: larger than %d bytes; not a preset", out->path,
                                   TS_PRESET_MAX_BYTES);
    char *text;
    size_t len;
    if (ts_read_file(out->path, &text, &len) != TS_OK) return TS_ERR;
    char path[4096];
    snprintf(path, sizeof path, "%s", out->path);
    ts_status st = ts_preset_parse(text, len, path, out);
    free(text);
    return st;
}

ts_status ts_preset_parse(const char *text, size_t len, const char *path, ts_preset *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    if (len > TS_PRESET_MAX_BYTES)
        return ts_set_error_status(TS_EUSAGE, "%s: larger than %d bytes; not a preset", path,
                                   TS_PRESET_MAX_BYTES);
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j) return ts_set_error("%s: not valid JSON (see bench/presets/README.md)", out->path);
    snprintf(out->name, sizeof out->name, "%s", ts_basename(out->path));
    char *dot = strrchr(out->name, '.');
    if (dot) *dot = 0;
    ts_status st = parse(out, j);
    cJSON_Delete(j);
    if (st != TS_OK) ts_preset_free(out);
    return st;
}

void ts_preset_free(ts_preset *p) {
    for (int i = 0; i < p->n_entries; i++)
        cJSON_Delete(p->entries[i].shape);
    free(p->entries);
    p->entries = NULL;
    p->n_entries = p->cap = 0;
}
