/* config.c — named model shapes and the parameter table in PyTorch state_dict order. */
#include "model/config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/nearest.h"
#include "util/fsutil.h"

/* The notebook's ten models (vocabulary 100 and sequence length 256 as in DESIGN.md's table),
 * plus the tiny shapes the golden tests use. */
static const ts_model_config named[] = {
    {"transformer-1M", TS_TRANSFORMER, 100, 128, 4, 4, 512, 256, 0.1f},
    {"transformer-5M", TS_TRANSFORMER, 100, 256, 6, 4, 1024, 256, 0.1f},
    {"transformer-20M", TS_TRANSFORMER, 100, 512, 6, 8, 2048, 256, 0.1f},
    {"transformer-50M", TS_TRANSFORMER, 100, 768, 8, 12, 3072, 256, 0.1f},
    {"transformer-100M", TS_TRANSFORMER, 100, 1024, 10, 16, 4096, 256, 0.1f},
    {"lstm-1M", TS_LSTM, 100, 256, 2, 0, 0, 0, 0.1f},
    {"lstm-5M", TS_LSTM, 100, 512, 2, 0, 0, 0, 0.1f},
    {"lstm-20M", TS_LSTM, 100, 1024, 2, 0, 0, 0, 0.1f},
    {"lstm-50M", TS_LSTM, 100, 1536, 2, 0, 0, 0, 0.1f},
    {"lstm-100M", TS_LSTM, 100, 2048, 3, 0, 0, 0, 0.1f},
    {"transformer-tiny", TS_TRANSFORMER, 23, 16, 2, 2, 64, 8, 0.0f},
    {"lstm-tiny", TS_LSTM, 23, 16, 2, 0, 0, 0, 0.0f},
    {"transformer-small", TS_TRANSFORMER, 100, 64, 2, 2, 256, 256, 0.1f},
    {"lstm-small", TS_LSTM, 100, 128, 1, 0, 0, 0, 0.1f},
};
static const char *seed_names[] = {
    "transformer-1M", "transformer-5M", "transformer-20M", "transformer-50M", "transformer-100M",
    "lstm-1M",        "lstm-5M",        "lstm-20M",        "lstm-50M",        "lstm-100M"};

size_t ts_seed_models(const char *const **names) {
    *names = seed_names;
    return sizeof seed_names / sizeof *seed_names;
}

/* Parameters of a shape, in floating point so that no dimension can overflow the count. */
static double param_count_estimate(const ts_model_config *c) {
    double C = c->d_model, V = c->vocab_size, L = c->n_layers;
    if (c->family == TS_TRANSFORMER) {
        double F = c->d_ff;
        return 2 * V * C + V + c->max_seq_len * C + 2 * C + L * (4 * C * C + 2 * C * F + F + 9 * C);
    }
    return 2 * V * C + V + L * (8 * C * C + 8 * C);
}

ts_status ts_model_config_validate(const ts_model_config *c) {
    if (c->vocab_size < 1 || c->vocab_size > 65535)
        return ts_set_error_status(TS_EUSAGE, "model %s: vocab_size %d out of range (1 to 65535)",
                                   c->name, c->vocab_size);
    if (c->d_model < 1 || c->n_layers < 1 || c->d_model > TS_MAX_DIM || c->n_layers > TS_MAX_LAYERS)
        return ts_set_error_status(TS_EUSAGE,
                                   "model %s: d_model must be 1 to %d and n_layers 1 to %d",
                                   c->name, TS_MAX_DIM, TS_MAX_LAYERS);
    if (!(c->dropout >= 0 && c->dropout < 1))
        return ts_set_error_status(TS_EUSAGE, "model %s: dropout must be in [0, 1)", c->name);
    if (c->family == TS_TRANSFORMER) {
        if (c->n_heads < 1 || c->d_model % c->n_heads)
            return ts_set_error_status(TS_EUSAGE,
                                       "model %s: d_model %d is not a multiple of n_heads %d",
                                       c->name, c->d_model, c->n_heads);
        if (c->d_ff < 1 || c->max_seq_len < 1 || c->d_ff > 4 * TS_MAX_DIM ||
            c->max_seq_len > TS_MAX_SEQ)
            return ts_set_error_status(TS_EUSAGE,
                                       "model %s: d_ff must be 1 to %d and max_seq_len 1 to %d",
                                       c->name, 4 * TS_MAX_DIM, TS_MAX_SEQ);
    }
    double n = param_count_estimate(c);
    if (n > TS_MAX_PARAMS)
        return ts_set_error_status(TS_EUSAGE,
                                   "model %s: %.3g parameters, more than any device holds (limit "
                                   "%.3g)",
                                   c->name, n, TS_MAX_PARAMS);
    return TS_OK;
}

/* A dimension: absent gives def; otherwise a whole number in [0, hi] (validate checks the
 * lower bounds), else a usage error naming the key. */
static ts_status json_dim(const cJSON *o, const char *k, int def, int hi, const char *where,
                          int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    *out = def;
    if (!v) return TS_OK;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= hi) ||
        floor(v->valuedouble) != v->valuedouble)
        return ts_set_error_status(TS_EUSAGE, "%s: \"%s\" must be a whole number from 0 to %d",
                                   where, k, hi);
    *out = (int)v->valuedouble;
    return TS_OK;
}

ts_status ts_model_config_from_json(const cJSON *j, const char *where, ts_model_config *out) {
    if (!cJSON_IsObject(j)) return ts_set_error("%s: not a JSON object describing a model", where);
    memset(out, 0, sizeof *out);
    const cJSON *fam = cJSON_GetObjectItemCaseSensitive(j, "family");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    const cJSON *drop = cJSON_GetObjectItemCaseSensitive(j, "dropout");
    if (!cJSON_IsString(fam) ||
        (strcmp(fam->valuestring, "transformer") && strcmp(fam->valuestring, "lstm")))
        return ts_set_error("%s: \"family\" must be \"transformer\" or \"lstm\"", where);
    out->family = strcmp(fam->valuestring, "lstm") ? TS_TRANSFORMER : TS_LSTM;
    /* The name becomes the run's folder and its shape file's name: nothing that leaves the
     * output folder ("../../userdata" once overwrote a user's file). */
    char base[64] = "";
    if (!name) {
        snprintf(base, sizeof base, "%s", ts_basename(where));
        if (ts_has_suffix(base, ".json")) base[strlen(base) - 5] = 0;
    }
    const char *nm = cJSON_IsString(name) ? name->valuestring : base;
    if ((name && !cJSON_IsString(name)) || !ts_safe_name(nm))
        return ts_set_error_status(TS_EUSAGE, "%s: model \"name\" %s", where, ts_safe_name_rule);
    snprintf(out->name, sizeof out->name, "%s", nm);
    ts_status st;
    if ((st = json_dim(j, "vocab_size", 0, 65535, where, &out->vocab_size)) != TS_OK ||
        (st = json_dim(j, "d_model", 0, TS_MAX_DIM, where, &out->d_model)) != TS_OK ||
        (st = json_dim(j, "n_layers", 0, TS_MAX_LAYERS, where, &out->n_layers)) != TS_OK ||
        (st = json_dim(j, "n_heads", 0, TS_MAX_DIM, where, &out->n_heads)) != TS_OK ||
        (st = json_dim(j, "d_ff", 4 * out->d_model, 4 * TS_MAX_DIM, where, &out->d_ff)) != TS_OK ||
        (st = json_dim(j, "max_seq_len", out->family == TS_TRANSFORMER ? 256 : 0, TS_MAX_SEQ, where,
                       &out->max_seq_len)) != TS_OK)
        return st;
    if (drop && (!cJSON_IsNumber(drop) || !(drop->valuedouble >= 0 && drop->valuedouble < 1)))
        return ts_set_error_status(TS_EUSAGE, "%s: \"dropout\" must be a number in [0, 1)", where);
    out->dropout = cJSON_IsNumber(drop) ? (float)drop->valuedouble : 0.1f;
    return TS_OK;
}

static ts_status config_from_file(const char *path, ts_model_config *out) {
    char *text;
    size_t len;
    struct stat sb;
    if (stat(path, &sb) == 0 && sb.st_size > (1 << 20))
        return ts_set_error_status(TS_EUSAGE, "%s: larger than 1 MiB; not a model file", path);
    if (ts_read_file(path, &text, &len) != TS_OK) return TS_ERR;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    ts_status st = ts_model_config_from_json(j, path, out);
    cJSON_Delete(j);
    return st;
}

int ts_model_default_seq_len(const ts_model_config *c) {
    return c->family == TS_TRANSFORMER && c->max_seq_len > 0 && c->max_seq_len < 256
               ? c->max_seq_len
               : 256;
}

ts_status ts_model_config_lookup(const char *name_or_file, ts_model_config *out) {
    for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        if (!strcmp(name_or_file, named[i].name)) {
            *out = named[i];
            return TS_OK;
        }
    if (ts_has_suffix(name_or_file, ".json")) return config_from_file(name_or_file, out);
    const char *names[sizeof named / sizeof *named];
    for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        names[i] = named[i].name;
    const char *near = ts_nearest_name(name_or_file, names, sizeof named / sizeof *named);
    char hint[96] = "";
    if (near) snprintf(hint, sizeof hint, "; did you mean %s?", near);
    return ts_set_error_status(TS_EUSAGE,
                               "unknown model '%s' (transformer-1M|5M|20M|50M|100M, "
                               "lstm-1M|…|100M, transformer-tiny, lstm-tiny, transformer-small, "
                               "lstm-small, or a FILE.json)%s",
                               name_or_file, hint);
}

typedef struct {
    ts_param_spec *v;
    size_t n, cap, offset;
} spec_list;

static void add(spec_list *l, const char *name, int64_t d0, int64_t d1, ts_init_kind init,
                float arg) {
    size_t numel = (size_t)d0 * (size_t)(d1 ? d1 : 1);
    if (l->n < l->cap) {
        ts_param_spec *s = &l->v[l->n];
        snprintf(s->name, sizeof s->name, "%s", name);
        s->ndim = d1 ? 2 : 1;
        s->shape[0] = d0;
        s->shape[1] = d1;
        s->numel = numel;
        s->offset = l->offset;
        s->init = init;
        s->init_arg = arg;
    }
    l->n++;
    l->offset += numel;
}

size_t ts_param_specs(const ts_model_config *c, ts_param_spec *specs, size_t cap) {
    spec_list l = {specs, 0, cap, 0};
    char n[96];
    int C = c->d_model, V = c->vocab_size;
    if (c->family == TS_TRANSFORMER) {
        add(&l, "token_embedding.weight", V, C, TS_INIT_NORMAL, 0);
        add(&l, "position_embedding.weight", c->max_seq_len, C, TS_INIT_NORMAL, 0);
        float xavier = sqrtf(6.0f / (float)(C + 3 * C));
        for (int b = 0; b < c->n_layers; b++) {
#define P(suffix, d0, d1, init, arg)                                                               \
    snprintf(n, sizeof n, "blocks.%d.%s", b, suffix);                                              \
    add(&l, n, d0, d1, init, arg)
            P("attention.in_proj_weight", 3 * C, C, TS_INIT_XAVIER, xavier);
            P("attention.in_proj_bias", 3 * C, 0, TS_INIT_ZEROS, 0);
            P("attention.out_proj.weight", C, C, TS_INIT_NORMAL, 0);
            P("attention.out_proj.bias", C, 0, TS_INIT_ZEROS, 0);
            P("norm1.weight", C, 0, TS_INIT_ONES, 0);
            P("norm1.bias", C, 0, TS_INIT_ZEROS, 0);
            P("norm2.weight", C, 0, TS_INIT_ONES, 0);
            P("norm2.bias", C, 0, TS_INIT_ZEROS, 0);
            P("ff.0.weight", c->d_ff, C, TS_INIT_NORMAL, 0);
            P("ff.0.bias", c->d_ff, 0, TS_INIT_ZEROS, 0);
            P("ff.3.weight", C, c->d_ff, TS_INIT_NORMAL, 0);
            P("ff.3.bias", C, 0, TS_INIT_ZEROS, 0);
#undef P
        }
        add(&l, "norm.weight", C, 0, TS_INIT_ONES, 0);
        add(&l, "norm.bias", C, 0, TS_INIT_ZEROS, 0);
    } else {
        add(&l, "embedding.weight", V, C, TS_INIT_NORMAL, 0);
        float bound = 1.0f / sqrtf((float)C);
        for (int k = 0; k < c->n_layers; k++) {
            snprintf(n, sizeof n, "lstm.weight_ih_l%d", k);
            add(&l, n, 4 * C, C, TS_INIT_LSTM, bound);
            snprintf(n, sizeof n, "lstm.weight_hh_l%d", k);
            add(&l, n, 4 * C, C, TS_INIT_LSTM, bound);
            snprintf(n, sizeof n, "lstm.bias_ih_l%d", k);
            add(&l, n, 4 * C, 0, TS_INIT_LSTM, bound);
            snprintf(n, sizeof n, "lstm.bias_hh_l%d", k);
            add(&l, n, 4 * C, 0, TS_INIT_LSTM, bound);
        }
    }
    add(&l, "output.weight", V, C, TS_INIT_NORMAL, 0);
    add(&l, "output.bias", V, 0, TS_INIT_ZEROS, 0);
    return l.n;
}

size_t ts_param_count(const ts_model_config *c) {
    size_t n = ts_param_specs(c, NULL, 0);
    ts_param_spec *specs = malloc(n * sizeof *specs);
    if (!specs) return 0;
    ts_param_specs(c, specs, n);
    size_t total = specs[n - 1].offset + specs[n - 1].numel;
    free(specs);
    return total;
}

size_t ts_param_count_non_embedding(const ts_model_config *c) {
    size_t emb = (size_t)c->vocab_size * (size_t)c->d_model;
    if (c->family == TS_TRANSFORMER) emb += (size_t)c->max_seq_len * (size_t)c->d_model;
    return ts_param_count(c) - emb;
}
