/* sampleset.c — draw a set of samples and write them as .abc files plus samples.json. */
#include "gen/sampleset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"

char *ts_sample_text(const ts_vocab *v, const int32_t *tokens, int n) {
    uint16_t *u = malloc(((size_t)n + 1) * sizeof *u);
    size_t cap = 4 * (size_t)n + 2; /* UTF-8: at most 4 bytes per character */
    char *text = malloc(cap);
    if (!u || !text) {
        free(u);
        free(text);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        u[i] = (uint16_t)tokens[i];
    size_t len = ts_vocab_decode(v, u, (size_t)n, text, cap - 1);
    free(u);
    if (len == (size_t)-1) len = 0;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\r'))
        len--;
    text[len++] = '\n';
    text[len] = '\0';
    return text;
}

ts_status ts_sample_set(ts_loaded *l, const ts_sample_job *jobs, int n, const ts_sample_options *o,
                        const char *out_dir, cJSON **doc) {
    *doc = NULL;
    ts_infer *inf = NULL;
    ts_status st = ts_infer_create(l->model, &inf);
    if (st != TS_OK) return st;
    if (out_dir && (st = ts_mkdir_p(out_dir)) != TS_OK) {
        ts_infer_free(inf);
        return st;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "tunescale.samples/1");
    cJSON_AddStringToObject(root, "model", l->cfg.name);
    cJSON_AddStringToObject(root, "backend", l->be->iface->name);
    cJSON *opt = cJSON_AddObjectToObject(root, "options");
    cJSON_AddNumberToObject(opt, "seed", (double)o->seed);
    cJSON_AddNumberToObject(opt, "top_k", o->top_k);
    cJSON_AddNumberToObject(opt, "top_p", round(o->top_p * 1e6) / 1e6);
    cJSON_AddNumberToObject(opt, "max_len", o->max_len);
    cJSON_AddNumberToObject(opt, "blank_lines", o->blank_lines);
    cJSON_AddNumberToObject(opt, "context", o->context);
    cJSON_AddStringToObject(opt, "window", o->window == TS_WINDOW_SLIDE ? "slide" : "half");
    cJSON_AddBoolToObject(opt, "cache", o->use_cache);
    cJSON *arr = cJSON_AddArrayToObject(root, "samples");
    for (int i = 0; i < n && st == TS_OK; i++) {
        int32_t *prompt = NULL;
        int np = 0;
        if ((st = ts_prompt_tokens(l, jobs[i].prompt, &prompt, &np)) != TS_OK) break;
        ts_sample_options so = *o;
        so.temperature = jobs[i].temperature;
        ts_sample s;
        st = ts_sample_run(inf, prompt, np, (uint32_t)i, l->newline_id, &so, &s);
        free(prompt);
        if (st != TS_OK) break;
        char *text = ts_sample_text(&l->vocab, s.tokens, s.n_tokens);
        char name[96], path[4300];
        if (jobs[i].name[0])
            snprintf(name, sizeof name, "%s.abc", jobs[i].name);
        else
            snprintf(name, sizeof name, "sample_%03d.abc", i);
        if (!text) st = ts_set_error("out of host memory");
        if (st == TS_OK && out_dir) {
            ts_path_join(path, sizeof path, out_dir, name);
            st = ts_write_file_atomic(path, text, strlen(text));
        }
        int gen = s.n_tokens - s.n_prompt;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "index", i);
        cJSON_AddStringToObject(e, "file", name);
        if (jobs[i].prompt && jobs[i].prompt[0])
            cJSON_AddStringToObject(e, "prompt", jobs[i].prompt);
        else
            cJSON_AddNullToObject(e, "prompt");
        cJSON_AddNumberToObject(e, "seed", (double)o->seed);
        cJSON_AddNumberToObject(e, "temperature", round(so.temperature * 1e6) / 1e6);
        cJSON_AddNumberToObject(e, "prompt_tokens", s.n_prompt);
        cJSON_AddNumberToObject(e, "tokens", gen);
        cJSON_AddStringToObject(e, "stop", s.stop);
        cJSON_AddNumberToObject(e, "seconds", s.seconds);
        cJSON_AddNumberToObject(e, "tokens_per_s", s.seconds > 0 ? gen / s.seconds : 0);
        cJSON_AddNumberToObject(e, "window_moves", s.rebuilds);
        cJSON_AddStringToObject(e, "text", text ? text : "");
        cJSON_AddItemToArray(arr, e);
        free(text);
        ts_sample_free(&s);
    }
    ts_infer_free(inf);
    if (st == TS_OK && out_dir) {
        char path[4300], *json = cJSON_Print(root);
        ts_path_join(path, sizeof path, out_dir, "samples.json");
        st = json ? ts_write_file_atomic(path, json, strlen(json))
                  : ts_set_error("out of host memory");
        free(json);
    }
    if (st != TS_OK) {
        cJSON_Delete(root);
        return st;
    }
    *doc = root;
    return TS_OK;
}
