/* load.c — a trained model and its dataset from a run folder (see load.h). */
#include "gen/load.h"

#include <stdlib.h>
#include <string.h>

#include "data/dataset_json.h"
#include "train/checkpoint.h"
#include "train/result_json.h"
#include "util/fsutil.h"

static int json_int(const cJSON *o, const char *key, int dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

/* The model's shape from a run's result.json "model" object. */
static ts_status config_from_result(const cJSON *model, ts_model_config *c) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(model, "name");
    const cJSON *fam = cJSON_GetObjectItemCaseSensitive(model, "family");
    if (!cJSON_IsString(name)) return ts_set_error("result.json has no model.name");
    if (ts_model_config_lookup(name->valuestring, c) == TS_OK) {
        c->vocab_size = json_int(model, "vocab_size", c->vocab_size);
        return TS_OK;
    }
    memset(c, 0, sizeof *c); /* a FILE.json model: its recorded fields */
    snprintf(c->name, sizeof c->name, "%s", name->valuestring);
    c->family = cJSON_IsString(fam) && !strcmp(fam->valuestring, "lstm") ? TS_LSTM : TS_TRANSFORMER;
    c->vocab_size = json_int(model, "vocab_size", 0);
    c->d_model = json_int(model, "d_model", 0);
    c->n_layers = json_int(model, "n_layers", 0);
    c->n_heads = json_int(model, "n_heads", 0);
    c->d_ff = json_int(model, "d_ff", 0);
    c->max_seq_len = json_int(model, "max_seq_len", c->family == TS_TRANSFORMER ? 256 : 0);
    const cJSON *drop = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    c->dropout = cJSON_IsNumber(drop) ? (float)drop->valuedouble : 0.1f;
    ts_clear_error();
    return ts_model_config_validate(c);
}

/* The model name from a checkpoint's resume state ({"identity": "{\"model\": ...}"}). */
static ts_status config_from_state(const char *path, ts_model_config *c) {
    cJSON *state = NULL;
    if (ts_checkpoint_read_state(path, &state) != TS_OK || !state)
        return ts_set_error_status(TS_EUSAGE,
                                   "%s: no result.json beside it and no training state inside: "
                                   "name the model with --model",
                                   path);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(state, "identity");
    cJSON *ident = cJSON_IsString(id) ? cJSON_Parse(id->valuestring) : NULL;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(ident, "model");
    ts_status st = cJSON_IsString(name)
                       ? ts_model_config_lookup(name->valuestring, c)
                       : ts_set_error_status(TS_EUSAGE, "%s: no model name: use --model", path);
    cJSON_Delete(ident);
    cJSON_Delete(state);
    return st;
}

static ts_status load_dataset(ts_loaded *l) {
    char path[4200];
    snprintf(path, sizeof path, "%s/vocab.json", l->data_dir);
    if (!ts_is_file(path))
        return ts_set_error_status(TS_EUSAGE, "%s: no vocab.json (pass --data DIR)", l->data_dir);
    if (ts_vocab_load(&l->vocab, path) != TS_OK) return TS_ERR;
    /* a folder with only vocab.json (copied by hand) frames tunes the default way */
    snprintf(path, sizeof path, "%s/dataset.json", l->data_dir);
    l->sos_framing = 1;
    if (ts_is_file(path)) {
        ts_dataset d;
        if (ts_dataset_read(l->data_dir, &d) != TS_OK) return TS_ERR;
        l->sos_framing = !d.newline_framing;
        ts_dataset_free(&d);
    }
    uint16_t nl = ts_vocab_id(&l->vocab, '\n');
    l->newline_id = nl == TS_TOK_UNK ? -1 : nl;
    return TS_OK;
}

ts_status ts_load(const ts_load_options *o, ts_loaded *out) {
    memset(out, 0, sizeof *out);
    out->newline_id = -1;
    if (!ts_is_file(o->checkpoint))
        return ts_set_error_status(TS_EUSAGE, "%s: no such checkpoint", o->checkpoint);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", o->checkpoint);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    cJSON *result = NULL;
    if (ts_result_read(dir, &result) != TS_OK) ts_clear_error(); /* none: the checkpoint's */
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(result, "model");
    const cJSON *ddir = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(result, "dataset"), "dir");
    ts_status st;
    if (o->model)
        st = ts_model_config_lookup(o->model, &out->cfg);
    else if (model)
        st = config_from_result(model, &out->cfg);
    else
        st = config_from_state(o->checkpoint, &out->cfg);
    if (o->data_dir)
        snprintf(out->data_dir, sizeof out->data_dir, "%s", o->data_dir);
    else if (cJSON_IsString(ddir))
        snprintf(out->data_dir, sizeof out->data_dir, "%s", ddir->valuestring);
    cJSON_Delete(result);
    if (st != TS_OK) return st;
    if (!out->data_dir[0])
        return ts_set_error_status(TS_EUSAGE,
                                   "%s: cannot tell which dataset it was trained on: "
                                   "pass --data DIR",
                                   o->checkpoint);
    if ((st = load_dataset(out)) != TS_OK) goto fail;
    out->cfg.vocab_size = (int)ts_vocab_size(&out->vocab); /* the model follows the dataset */
    if ((st = ts_model_config_validate(&out->cfg)) != TS_OK) goto fail;
    ts_backend_options bo = {o->device, o->threads, o->mem_limit, TS_PREC_FP32};
    if ((st = ts_backend_create(o->backend ? o->backend : "cpu", &bo, &out->be)) != TS_OK)
        goto fail;
    if ((st = ts_model_create(&out->cfg, out->be, &out->model)) != TS_OK) goto fail;
    if ((st = ts_checkpoint_load(out->model, o->checkpoint, 0, NULL)) != TS_OK) goto fail;
    return TS_OK;
fail:
    ts_loaded_free(out);
    return st;
}

void ts_loaded_free(ts_loaded *l) {
    ts_model_free(l->model);
    ts_backend_destroy(l->be);
    ts_vocab_free(&l->vocab);
    l->model = NULL;
    l->be = NULL;
}

ts_status ts_prompt_tokens(const ts_loaded *l, const char *prompt, int32_t **ids, int *n) {
    size_t len = prompt ? strlen(prompt) : 0;
    uint16_t *u = malloc((len + 1) * sizeof *u);
    *ids = malloc((len + 1) * sizeof **ids);
    if (!u || !*ids) {
        free(u);
        free(*ids);
        *ids = NULL;
        return ts_set_error("out of host memory");
    }
    int k = 0;
    if (l->sos_framing || len == 0) (*ids)[k++] = TS_TOK_SOS;
    size_t m = len ? ts_vocab_encode(&l->vocab, prompt, len, u) : 0;
    for (size_t i = 0; i < m; i++)
        (*ids)[k++] = u[i];
    free(u);
    *n = k;
    return TS_OK;
}
