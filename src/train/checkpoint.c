/* checkpoint.c — saving and loading checkpoints (see checkpoint.h). */
#include "train/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/safetensors.h"

extern const char *ts_git_commit;

static const char *state_key = "tunescale_state";

static cJSON *config_json(const ts_model_config *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", c->name);
    cJSON_AddStringToObject(j, "family", c->family == TS_LSTM ? "lstm" : "transformer");
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(j, "d_model", c->d_model);
    cJSON_AddNumberToObject(j, "n_layers", c->n_layers);
    if (c->family == TS_TRANSFORMER) {
        cJSON_AddNumberToObject(j, "n_heads", c->n_heads);
        cJSON_AddNumberToObject(j, "d_ff", c->d_ff);
        cJSON_AddNumberToObject(j, "max_seq_len", c->max_seq_len);
    }
    cJSON_AddNumberToObject(j, "dropout", c->dropout);
    return j;
}

ts_status ts_checkpoint_save(ts_model *m, const char *path, const cJSON *state) {
    size_t n = m->n_params;
    float *buf = malloc((state ? 3 : 1) * n * sizeof *buf);
    ts_st_writer *w = ts_st_writer_new();
    ts_status st = TS_OK;
    if (!buf || !w) {
        st = ts_set_error_status(TS_ENOMEM, "out of host memory writing %s", path);
        goto done;
    }
    if ((st = ts_model_get_params(m, buf)) != TS_OK) goto done;
    if (state && (st = ts_model_get_moments(m, buf + n, buf + 2 * n)) != TS_OK) goto done;
    for (size_t i = 0; i < m->n_specs && st == TS_OK; i++) {
        const ts_param_spec *s = &m->specs[i];
        st = ts_st_add(w, s->name, "F32", s->ndim, s->shape, buf + s->offset,
                       s->numel * sizeof(float));
    }
    int64_t flat = (int64_t)n;
    if (state && st == TS_OK)
        st = ts_st_add(w, "__optimizer__.exp_avg", "F32", 1, &flat, buf + n, n * sizeof(float));
    if (state && st == TS_OK)
        st = ts_st_add(w, "__optimizer__.exp_avg_sq", "F32", 1, &flat, buf + 2 * n,
                       n * sizeof(float));
    cJSON *cfg = config_json(&m->cfg);
    char *cfg_text = cJSON_PrintUnformatted(cfg);
    cJSON_Delete(cfg);
    if (st == TS_OK) st = ts_st_add_meta(w, "format", "pt");
    if (st == TS_OK) st = ts_st_add_meta(w, "tunescale_config", cfg_text);
    if (st == TS_OK) st = ts_st_add_meta(w, "tunescale_commit", ts_git_commit);
    free(cfg_text);
    if (state && st == TS_OK) {
        char *s = cJSON_PrintUnformatted(state);
        st = s ? ts_st_add_meta(w, state_key, s)
               : ts_set_error_status(TS_ENOMEM, "out of host memory");
        free(s);
    }
    if (st == TS_OK) st = ts_st_write(w, path);
done:
    ts_st_writer_free(w);
    free(buf);
    return st;
}

ts_status ts_checkpoint_load(ts_model *m, const char *path, int moments, cJSON **state) {
    if (state) *state = NULL;
    ts_safetensors st;
    if (ts_st_open(&st, path) != TS_OK) return TS_ERR;
    size_t n = m->n_params;
    float *buf = malloc((moments ? 3 : 1) * n * sizeof *buf);
    ts_status rc =
        buf ? TS_OK : ts_set_error_status(TS_ENOMEM, "out of host memory reading %s", path);
    for (size_t i = 0; i < m->n_specs && rc == TS_OK; i++) {
        const ts_param_spec *s = &m->specs[i];
        const ts_st_tensor *t;
        rc = ts_st_expect(&st, s->name, "F32", s->ndim, s->shape, &t);
        if (rc == TS_OK) memcpy(buf + s->offset, ts_st_data(&st, t), t->nbytes);
    }
    if (moments && rc == TS_OK) {
        int64_t flat = (int64_t)n;
        const ts_st_tensor *mt, *vt;
        rc = ts_st_expect(&st, "__optimizer__.exp_avg", "F32", 1, &flat, &mt);
        if (rc == TS_OK) rc = ts_st_expect(&st, "__optimizer__.exp_avg_sq", "F32", 1, &flat, &vt);
        if (rc == TS_OK) {
            memcpy(buf + n, ts_st_data(&st, mt), n * sizeof(float));
            memcpy(buf + 2 * n, ts_st_data(&st, vt), n * sizeof(float));
        }
    }
    if (state && rc == TS_OK) {
        const char *s = ts_st_meta(&st, state_key);
        *state = s ? cJSON_Parse(s) : NULL;
        if (s && !*state) rc = ts_set_error("%s: training state is not valid JSON", path);
    }
    if (rc == TS_OK) rc = ts_model_set_params(m, buf);
    if (rc == TS_OK && moments) rc = ts_model_set_moments(m, buf + n, buf + 2 * n);
    free(buf);
    ts_st_close(&st);
    return rc;
}

ts_status ts_checkpoint_read_state(const char *path, cJSON **state) {
    *state = NULL;
    ts_safetensors st;
    if (ts_st_open(&st, path) != TS_OK) return TS_ERR;
    const char *s = ts_st_meta(&st, state_key);
    ts_status rc = TS_OK;
    if (s && !(*state = cJSON_Parse(s)))
        rc = ts_set_error("%s: training state is not valid JSON", path);
    ts_st_close(&st);
    return rc;
}
