/* cmd_params.c — `tunescale params`: the seed's ten models and their exact parameter counts. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_backend_opts.h"
#include "cli/commands.h"
#include "data/dataset_json.h"
#include "util/fsutil.h"
#include "model/config.h"

static void usage(FILE *out) {
    fprintf(out, "usage: tunescale params [--json] [--vocab V | --data DIR]\n\n"
                 "The notebook's ten models (vocabulary 100, sequence length 256) with their\n"
                 "shapes and exact parameter counts, counted from the same parameter table that\n"
                 "training allocates (PyTorch state_dict names and shapes).\n\n"
                 "  --vocab V   count with vocabulary size V instead of 100\n"
                 "  --data DIR  count with the vocabulary of a prepared data set (dataset.json)\n"
                 "  --json      one JSON document on stdout\n");
}

/* "1234567" -> "1,234,567" */
static const char *grouped(size_t n, char *buf, size_t cap) {
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%zu", n), w = 0;
    for (int i = 0; i < len && (size_t)w + 2 < cap; i++) {
        if (i && (len - i) % 3 == 0) buf[w++] = ',';
        buf[w++] = digits[i];
    }
    buf[w] = '\0';
    return buf;
}

int cmd_params(int argc, char **argv) {
    int json = 0, vocab = 100, first;
    const char *data = NULL;
    const ts_cli_opt opts[] = {TS_OPT_NUM("vocab", TS_ARG_INT, &vocab, 1, 65535),
                               TS_OPT("data", TS_ARG_STR, &data), TS_OPT("json", TS_ARG_ON, &json),
                               TS_OPT_END};
    const ts_cli_spec spec = {"params", opts, NULL, 0, usage, 0};
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    if (data) {
        /* the counts a training run on this data set really has: its vocabulary */
        ts_dataset d;
        ts_status st = ts_dataset_read(data, &d);
        if (st != TS_OK) {
            fprintf(stderr, "tunescale params: %s\n", ts_last_error());
            return ts_exit_code(st);
        }
        vocab = d.vocab_size;
        ts_dataset_free(&d);
    }
    const char *const *names;
    size_t n = ts_seed_models(&names);
    cJSON *arr = cJSON_CreateArray();
    if (!json)
        printf("%-17s %-11s %-30s %13s %13s\n", "model", "family", "shape", "params",
               "non-embedding");
    for (size_t i = 0; i < n; i++) {
        ts_model_config c;
        ts_model_config_lookup(names[i], &c);
        c.vocab_size = vocab;
        size_t p = ts_param_count(&c), ne = ts_param_count_non_embedding(&c);
        char shape[64], a[32], b[32];
        if (c.family == TS_TRANSFORMER)
            snprintf(shape, sizeof shape, "d=%d L=%d heads=%d ff=%d", c.d_model, c.n_layers,
                     c.n_heads, c.d_ff);
        else
            snprintf(shape, sizeof shape, "hidden=%d L=%d", c.d_model, c.n_layers);
        if (!json) {
            printf("%-17s %-11s %-30s %13s %13s\n", c.name,
                   c.family == TS_TRANSFORMER ? "transformer" : "lstm", shape,
                   grouped(p, a, sizeof a), grouped(ne, b, sizeof b));
            continue;
        }
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "name", c.name);
        cJSON_AddStringToObject(m, "family", c.family == TS_TRANSFORMER ? "transformer" : "lstm");
        cJSON_AddNumberToObject(m, "vocab_size", c.vocab_size);
        cJSON_AddNumberToObject(m, "d_model", c.d_model);
        cJSON_AddNumberToObject(m, "n_layers", c.n_layers);
        if (c.family == TS_TRANSFORMER) {
            cJSON_AddNumberToObject(m, "n_heads", c.n_heads);
            cJSON_AddNumberToObject(m, "d_ff", c.d_ff);
            cJSON_AddNumberToObject(m, "max_seq_len", c.max_seq_len);
        }
        cJSON_AddNumberToObject(m, "params", (double)p);
        cJSON_AddNumberToObject(m, "params_non_embedding", (double)ne);
        cJSON_AddItemToArray(arr, m);
    }
    if (json) {
        ts_cli_print_json("params", arr);
    }
    cJSON_Delete(arr);
    return 0;
}
