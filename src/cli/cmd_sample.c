/*
 * cmd_sample.c — `tunescale sample`: tunes from a checkpoint; and `tunescale bench sample`:
 * decoding speed with and without the key/value cache.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "cli/cli_args.h"
#include "cli/cli_backend_opts.h"
#include "cli/commands.h"
#include "gen/load.h"
#include "gen/sampleset.h"
#include "util/progress.h"

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: tunescale sample --checkpoint FILE [options]\n\n"
        "Draws tunes from a trained model: unconditional from <SOS>, or continuing --prompt.\n"
        "Stops at <EOS>, after --blank-lines blank lines in a row, or after --max-len tokens.\n"
        "The same --seed draws the same tunes (sample i depends on the seed and i only).\n\n"
        "  --checkpoint FILE   model.safetensors or checkpoint.safetensors of a run\n"
        "  --data DIR          the dataset (vocabulary); default: the run's result.json\n"
        "  --model NAME        the model's shape; default: the run's result.json\n"
        "  --backend B         cpu (default) | opencl | vulkan; --device N; --threads N\n"
        "  --n N               number of samples (default 1)\n"
        "  --temperature T     default 0.8 (0 = always the most likely token)\n"
        "  --top-k K           keep the K most likely tokens (default 50, 0 = all)\n"
        "  --top-p P           then the smallest set reaching probability P (default 1 = off)\n"
        "  --prompt TEXT       start of the tune; \\n and \\t are newline and tab\n"
        "  --max-len N         new tokens at most (default 400)\n"
        "  --blank-lines N     stop after N blank lines in a row (default 2, 0 = never)\n"
        "  --context N         window of tokens the model sees (default 256)\n"
        "  --window half|slide when the window is full: jump to its last half and rebuild\n"
        "                      the cache once (half, default), or slide by one token as the\n"
        "                      notebook does (slide: the cache is rebuilt every token)\n"
        "  --seed S            default 42\n"
        "  --out DIR           write DIR/sample_NNN.abc and DIR/samples.json\n"
        "  --no-cache          recompute the whole window for every token (the notebook's way)\n"
        "  --json              print samples.json on stdout\n"
        "  -q, --quiet         no summary on stderr\n\n"
        "exit codes: 0 ok, 1 failure, 2 usage, 3 out of memory\n");
}

/* "\n", "\t" and "\\" in a command-line prompt become the characters (in place). */
static void unescape(char *s) {
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (r[0] == '\\' && (r[1] == 'n' || r[1] == 't' || r[1] == '\\')) {
            *w++ = r[1] == 'n' ? '\n' : r[1] == 't' ? '\t' : '\\';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* --window half|slide */
static int window_policy(const char *s, void *dest) {
    ts_window_policy *w = dest;
    *w = !strcmp(s, "slide") ? TS_WINDOW_SLIDE : TS_WINDOW_HALF;
    return !strcmp(s, "half") || !strcmp(s, "slide");
}

int cmd_sample(int argc, char **argv) {
    ts_load_options lo = {0};
    ts_cli_backend bk = {0};
    ts_sample_options so;
    ts_sample_options_default(&so);
    const char *out_dir = NULL;
    char *prompt = NULL;
    int n = 1, json = 0, quiet = 0, first;
    const ts_cli_opt opts[] = {TS_OPT("checkpoint", TS_ARG_STR, &lo.checkpoint),
                               TS_OPT("data", TS_ARG_STR, &lo.data_dir),
                               TS_OPT("model", TS_ARG_STR, &lo.model),
                               TS_OPT_NUM("n", TS_ARG_INT, &n, 1, 1e6),
                               TS_OPT_NUM("temperature", TS_ARG_FLOAT, &so.temperature, 0, 100),
                               TS_OPT_NUM("top-k", TS_ARG_INT, &so.top_k, 0, 1e6),
                               TS_OPT_NUM("top-p", TS_ARG_FLOAT, &so.top_p, 1e-9, 1),
                               TS_OPT("prompt", TS_ARG_STR, &prompt),
                               TS_OPT_NUM("max-len", TS_ARG_INT, &so.max_len, 1, 1e7),
                               TS_OPT_NUM("blank-lines", TS_ARG_INT, &so.blank_lines, 0, 1e6),
                               TS_OPT_NUM("context", TS_ARG_INT, &so.context, 2, 1e7),
                               TS_OPT_FN("window", window_policy, &so.window),
                               TS_OPT_NUM("seed", TS_ARG_U64, &so.seed, 0, 1.8e19),
                               TS_OPT("out", TS_ARG_STR, &out_dir),
                               TS_OPT("no-cache", TS_ARG_OFF, &so.use_cache),
                               TS_OPT("json", TS_ARG_ON, &json),
                               TS_OPT_SHORT("quiet", 'q', TS_ARG_ON, &quiet),
                               TS_OPT_END};
    const ts_cli_spec spec = {"sample", opts, &bk, 0, usage, 0};
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    if (!lo.checkpoint) {
        fprintf(stderr, "tunescale sample: --checkpoint is required (see --help)\n");
        return 2;
    }
    lo.backend = bk.backend, lo.device = bk.o.device, lo.threads = bk.o.threads;
    if (prompt) unescape(prompt);
    ts_loaded l;
    ts_status st = ts_load(&lo, &l);
    if (st != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        return ts_exit_code(st);
    }
    ts_sample_job *jobs = calloc((size_t)n, sizeof *jobs);
    cJSON *doc = NULL;
    st = jobs ? TS_OK : ts_set_error("out of host memory");
    for (int i = 0; st == TS_OK && i < n; i++) {
        jobs[i].prompt = prompt;
        jobs[i].temperature = so.temperature;
    }
    double t0 = ts_now();
    if (st == TS_OK) st = ts_sample_set(&l, jobs, n, &so, out_dir, &doc);
    double secs = ts_now() - t0;
    if (st == TS_OK && json) {
        ts_cli_print_json("sample", doc);
    } else if (st == TS_OK) {
        long tokens = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "samples")) {
            printf("%s%s", e->prev ? "\n" : "",
                   cJSON_GetObjectItemCaseSensitive(e, "text")->valuestring);
            tokens += (long)cJSON_GetObjectItemCaseSensitive(e, "tokens")->valuedouble;
        }
        if (!quiet)
            fprintf(stderr,
                    "tunescale: %d sample%s, %ld tokens in %.2f s (%.0f tokens/s, %s)%s%s\n", n,
                    n == 1 ? "" : "s", tokens, secs, secs > 0 ? tokens / secs : 0,
                    so.use_cache ? "cached" : "no cache", out_dir ? " -> " : "",
                    out_dir ? out_dir : "");
    }
    if (st != TS_OK) fprintf(stderr, "tunescale: %s\n", ts_last_error());
    cJSON_Delete(doc);
    free(jobs);
    ts_loaded_free(&l);
    return ts_exit_code(st);
}

/* ---- bench sample -------------------------------------------------------------------------- */

static void bench_usage(FILE *out) {
    fprintf(out,
            "usage: tunescale bench sample [--model NAME | --checkpoint FILE] [options]\n\n"
            "Decoding speed: draws --n samples of exactly --len tokens (stop rules off) without\n"
            "the key/value cache (the whole window recomputed per token, as the notebook does),\n"
            "then with it, from the same seed, and reports tokens/s and the speed-up. With\n"
            "--model the weights are random (speed does not depend on them).\n\n"
            "  --model NAME        default transformer-1M (vocabulary 100)\n"
            "  --checkpoint FILE   a trained run instead (--data DIR if result.json lacks it)\n"
            "  --backend B         cpu (default) | opencl | vulkan; --device N; --threads N\n"
            "  --len N             tokens per sample (default 400)\n"
            "  --n N               samples per mode (default 2)\n"
            "  --seed S            default 42\n"
            "  --json              one JSON document on stdout\n");
}

/* Tokens per second of n samples of len tokens from <SOS>; also whether all equal ref. */
static ts_status bench_mode(ts_model *m, int use_cache, int n, int len, uint64_t seed,
                            int32_t *tokens, int check, int *same, double *tok_s) {
    ts_infer *inf = NULL;
    ts_status st = ts_infer_create(m, &inf);
    if (st != TS_OK) return st;
    ts_sample_options o;
    ts_sample_options_default(&o);
    o.max_len = len;
    o.blank_lines = 0;
    o.stop_at_eos = 0;
    o.seed = seed;
    o.use_cache = use_cache;
    int32_t sos = TS_TOK_SOS;
    double secs = 0;
    for (int i = 0; i < n && st == TS_OK; i++) {
        ts_sample s;
        if ((st = ts_sample_run(inf, &sos, 1, (uint32_t)i, -1, &o, &s)) != TS_OK) break;
        secs += s.seconds;
        int32_t *row = tokens + (size_t)i * (len + 1);
        if (check)
            *same &= !memcmp(row, s.tokens, (size_t)s.n_tokens * sizeof *row);
        else
            memcpy(row, s.tokens, (size_t)s.n_tokens * sizeof *row);
        ts_sample_free(&s);
    }
    *tok_s = secs > 0 ? (double)n * len / secs : 0;
    ts_infer_free(inf);
    return st;
}

int cmd_bench_sample(int argc, char **argv) {
    ts_load_options lo = {0};
    ts_cli_backend bk = {0};
    const char *model = "transformer-1M";
    int len = 400, n = 2, json = 0, first;
    uint64_t seed = 42;
    const ts_cli_opt opts[] = {
        TS_OPT("model", TS_ARG_STR, &model),      TS_OPT("checkpoint", TS_ARG_STR, &lo.checkpoint),
        TS_OPT("data", TS_ARG_STR, &lo.data_dir), TS_OPT_NUM("len", TS_ARG_INT, &len, 1, 1e6),
        TS_OPT_NUM("n", TS_ARG_INT, &n, 1, 1e4),  TS_OPT_NUM("seed", TS_ARG_U64, &seed, 0, 1.8e19),
        TS_OPT("json", TS_ARG_ON, &json),         TS_OPT_END};
    const ts_cli_spec spec = {"bench sample", opts, &bk, 0, bench_usage, 0};
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    lo.backend = bk.backend, lo.device = bk.o.device, lo.threads = bk.o.threads;
    ts_loaded l;
    memset(&l, 0, sizeof l);
    ts_status st;
    if (lo.checkpoint) {
        st = ts_load(&lo, &l);
    } else { /* random weights of the named shape */
        st = ts_model_config_lookup(model, &l.cfg);
        if (st == TS_OK && !l.cfg.vocab_size) l.cfg.vocab_size = 100;
        ts_backend_options bo = {lo.device, lo.threads, 0, TS_PREC_FP32};
        if (st == TS_OK) st = ts_backend_create(lo.backend ? lo.backend : "cpu", &bo, &l.be);
        if (st == TS_OK) st = ts_model_create(&l.cfg, l.be, &l.model);
        if (st == TS_OK) st = ts_model_init_params(l.model, seed);
    }
    int32_t *tokens = st == TS_OK ? malloc((size_t)n * (len + 1) * sizeof *tokens) : NULL;
    if (st == TS_OK && !tokens) st = ts_set_error("out of host memory");
    double base = 0, cached = 0;
    int same = 1;
    if (st == TS_OK) st = bench_mode(l.model, 0, n, len, seed, tokens, 0, &same, &base);
    if (st == TS_OK) st = bench_mode(l.model, 1, n, len, seed, tokens, 1, &same, &cached);
    if (st == TS_OK) {
        ts_device_info d;
        memset(&d, 0, sizeof d);
        l.be->iface->device_info(l.be, &d);
        double ratio = base > 0 ? cached / base : 0;
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "schema", "tunescale.bench_sample/1");
            cJSON_AddStringToObject(j, "model", l.cfg.name);
            cJSON_AddStringToObject(j, "backend", l.be->iface->name);
            cJSON_AddStringToObject(j, "device", d.name);
            cJSON_AddNumberToObject(j, "threads", d.threads);
            cJSON_AddNumberToObject(j, "samples", n);
            cJSON_AddNumberToObject(j, "tokens_per_sample", len);
            cJSON_AddNumberToObject(j, "no_cache_tokens_per_s", base);
            cJSON_AddNumberToObject(j, "cache_tokens_per_s", cached);
            cJSON_AddNumberToObject(j, "speedup", ratio);
            cJSON_AddBoolToObject(j, "same_tokens", same);
            ts_cli_print_json("bench sample", j);
            cJSON_Delete(j);
        } else {
            printf("bench sample: %s on %s (%s), %d samples x %d tokens from <SOS>\n", l.cfg.name,
                   l.be->iface->name, d.name, n, len);
            printf("  no cache (window recomputed)  %10.1f tokens/s\n", base);
            printf("  key/value cache               %10.1f tokens/s\n", cached);
            printf("  speed-up %.1fx, same tokens: %s\n", ratio, same ? "yes" : "NO");
        }
    }
    if (st != TS_OK) fprintf(stderr, "tunescale: %s\n", ts_last_error());
    free(tokens);
    ts_loaded_free(&l);
    return ts_exit_code(st);
}
