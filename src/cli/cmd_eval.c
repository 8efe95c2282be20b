/*
 * cmd_eval.c — `tunescale eval`: test loss and perplexity of a checkpoint, and the quality
 * figures of a folder of generated tunes (validity, MIDI conversion, novelty, meter).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_backend_opts.h"
#include "cli/commands.h"
#include "gen/evalset.h"
#include "gen/load.h"
#include "train/trainer.h"
#include "util/fsutil.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale eval --checkpoint FILE --data DIR [--samples DIR] [options]\n\n"
            "Test loss and perplexity of a model on DIR/test.bin (every non-<PAD> target, windows\n"
            "of --seq-len, no dropout: the training run's own evaluation). With --samples, also\n"
            "for the .abc files there: strict validity (ABC 2.1: no error and no extension from\n"
            "the ABC checker), reference-tool validity (no error: what abcm2ps and abc2midi\n"
            "read), loose validity (the notebook's check), MIDI conversion (NAME.mid beside each\n"
            "NAME.abc), novelty (generated 16-character windows found nowhere in train.bin) and\n"
            "meter consistency (bars whose length matches M:).\n\n"
            "  --checkpoint FILE   model.safetensors or checkpoint.safetensors (optional with\n"
            "                      --samples and --data: sample figures only)\n"
            "  --data DIR          the dataset; default: the run's result.json\n"
            "  --model NAME        the model's shape; default: the run's result.json\n"
            "  --samples DIR       a folder of .abc files (from tunescale sample --out)\n"
            "  --backend B         cpu (default) | opencl | vulkan; --device N; --threads N\n"
            "  --batch B           windows per forward pass (default 16)\n"
            "  --seq-len T         window length (default 256, the notebook's)\n"
            "  --json              one JSON document on stdout\n\n"
            "exit codes: 0 ok, 1 failure, 2 usage, 3 out of memory\n");
}

static void print_pct(const char *label, const cJSON *o, const char *key, double scale,
                      const char *unit) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    int digits = *unit ? 1 : 4; /* percentages to 0.1, losses to 1e-4 */
    if (cJSON_IsNumber(v))
        printf("  %-20s %10.*f%s\n", label, digits, v->valuedouble * scale, unit);
    else
        printf("  %-20s %10s\n", label, "n/a");
}

int cmd_eval(int argc, char **argv) {
    ts_load_options lo = {0};
    ts_cli_backend bk = {0};
    const char *samples = NULL;
    int batch = 16, seq_len = 256, json = 0, first;
    const ts_cli_opt opts[] = {TS_OPT("checkpoint", TS_ARG_STR, &lo.checkpoint),
                               TS_OPT("data", TS_ARG_STR, &lo.data_dir),
                               TS_OPT("model", TS_ARG_STR, &lo.model),
                               TS_OPT("samples", TS_ARG_STR, &samples),
                               TS_OPT_NUM("batch", TS_ARG_INT, &batch, 1, 1e6),
                               TS_OPT_NUM("seq-len", TS_ARG_INT, &seq_len, 1, 1e6),
                               TS_OPT("json", TS_ARG_ON, &json),
                               TS_OPT_END};
    const ts_cli_spec spec = {"eval", opts, &bk, 0, usage, 0};
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    lo.backend = bk.backend, lo.device = bk.o.device, lo.threads = bk.o.threads;
    if (!lo.checkpoint && !(samples && lo.data_dir)) {
        fprintf(stderr, "tunescale eval: --checkpoint (or --samples with --data) is required "
                        "(see --help)\n");
        return 2;
    }
    ts_loaded l;
    memset(&l, 0, sizeof l);
    ts_status st = TS_OK;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "schema", "tunescale.eval/1");
    if (lo.checkpoint) {
        st = ts_load(&lo, &l);
    } else {
        char path[4200];
        snprintf(l.data_dir, sizeof l.data_dir, "%s", lo.data_dir);
        ts_path_join(path, sizeof path, lo.data_dir, "vocab.json");
        st = ts_vocab_load(&l.vocab, path);
    }
    if (st == TS_OK) cJSON_AddStringToObject(doc, "data", l.data_dir);
    if (st == TS_OK && l.model) {
        double loss = NAN, tokens = 0;
        int T = seq_len;
        if (l.cfg.family == TS_TRANSFORMER && T > l.cfg.max_seq_len) T = l.cfg.max_seq_len;
        cJSON_AddStringToObject(doc, "checkpoint", lo.checkpoint);
        cJSON_AddStringToObject(doc, "model", l.cfg.name);
        cJSON_AddStringToObject(doc, "backend", l.be->iface->name);
        st = ts_evaluate_split(l.model, l.data_dir, "test", batch, T, &loss, &tokens);
        cJSON *t = cJSON_AddObjectToObject(doc, "test");
        cJSON_AddNumberToObject(t, "seq_len", T);
        if (st == TS_OK && isfinite(loss)) {
            cJSON_AddNumberToObject(t, "loss", loss);
            cJSON_AddNumberToObject(t, "perplexity", exp(loss));
        } else {
            cJSON_AddNullToObject(t, "loss");
            cJSON_AddNullToObject(t, "perplexity");
        }
        cJSON_AddNumberToObject(t, "tokens", tokens);
    }
    if (st == TS_OK && samples) {
        char train[4200];
        ts_path_join(train, sizeof train, l.data_dir, "train.bin");
        ts_sample_metrics m;
        cJSON *rows = cJSON_CreateArray();
        st = ts_eval_samples(samples, &l.vocab, ts_is_file(train) ? train : NULL, &m, rows);
        cJSON *s = ts_sample_metrics_json(&m);
        cJSON_AddStringToObject(s, "dir", samples);
        cJSON_AddItemToObject(s, "per_file", rows);
        cJSON_AddItemToObject(doc, "samples", s);
    }
    if (st == TS_OK && json) {
        ts_cli_print_json("eval", doc);
    } else if (st == TS_OK) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "test");
        if (t) {
            printf("%s on %s, test split:\n", l.cfg.name, l.be->iface->name);
            print_pct("test loss", t, "loss", 1, "");
            print_pct("test perplexity", t, "perplexity", 1, "");
        }
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "samples");
        if (s) {
            printf("samples in %s (%d files):\n", samples,
                   cJSON_GetObjectItemCaseSensitive(s, "files")->valueint);
            print_pct("strict validity", s, "strict_valid_pct", 1, " %");
            print_pct("reference-tool validity", s, "reference_valid_pct", 1, " %");
            print_pct("loose validity", s, "loose_valid_pct", 1, " %");
            print_pct("MIDI conversion", s, "midi_pct", 1, " %");
            print_pct("novelty", s, "novelty", 100, " %");
            print_pct("meter consistency", s, "meter_consistency", 100, " %");
        }
    }
    if (st != TS_OK) fprintf(stderr, "tunescale: %s\n", ts_last_error());
    cJSON_Delete(doc);
    ts_loaded_free(&l);
    return ts_exit_code(st);
}
