/*
 * preset.h — sweep presets: which models a sweep trains and with which hyper-parameters.
 *
 * A preset is a JSON file (bench/presets/NAME.json; format in bench/presets/README.md):
 *
 *   { "schema": "tunescale.preset/1", "name": "quick", "description": "...",
 *     "defaults": { "tokens": 200000, "batch": 16, "seq_len": 128, "lr": 0.001, "seeds": [42] },
 *     "models": [ "transformer-1M",                                   a named model
 *                 { "model": "lstm-50M", "batch": 32 },               named, with overrides
 *                 { "name": "transformer-40k", "family": "transformer",
 *                   "d_model": 32, "n_layers": 2, "n_heads": 2, "d_ff": 128 } ] }  a shape
 *
 * Training keys (in "defaults" or on one model): exactly one of steps / tokens / epochs, batch,
 * seq_len, stride, lr, warmup, weight_decay, clip, dropout, seeds (array) or seed, and
 * "precision": "fp32" | "tf32" | "bf16" | "fp16" (a string; default fp32).
 *
 * "tokens" may be a list of budgets ([65536, 262144]): each model then becomes one entry per
 * (budget, seed), each budget its own run with its own schedule (the trainer's warm-up and cosine
 * over that many tokens) and the same initial seed, so that a sweep samples L(N, D) on a grid.
 */
#ifndef TS_SWEEP_PRESET_H
#define TS_SWEEP_PRESET_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "backends/precision.h"
#include "model/config.h"
#include "util/error.h"

/* Training settings of one run; 0 / negative values mean "the trainer's default". */
typedef struct {
    long steps;
    double tokens, epochs;
    int batch, seq_len, stride;
    double lr, weight_decay, clip, dropout; /* dropout < 0: the model's */
    long warmup;                            /* < 0: the trainer's rule */
    uint64_t seed;
    int precision_set;      /* "precision" given (a --precision override: given on the line) */
    ts_precision precision; /* backends/precision.h; fp32 when not set */
} ts_run_hparams;

/* One model of a preset with its settings, expanded per seed. */
/* At most this many budgets in one "tokens" list. */
#define TS_PRESET_MAX_BUDGETS 32

typedef struct {
    char model[64];      /* the model's name */
    char label[96];      /* the run's name: the model's, plus "-d<tokens>" from a tokens list */
    int budget_index;    /* position of its budget in that list (0 without one) */
    cJSON *shape;        /* a custom shape (owned), or NULL for a named model */
    ts_model_config cfg; /* the shape (vocab_size filled from the dataset by the sweep) */
    ts_run_hparams hp;
} ts_preset_entry;

typedef struct {
    char name[64];
    char path[4096]; /* the file it came from */
    char description[512];
    ts_preset_entry *entries;
    int n_entries, cap;
} ts_preset;

/* Limits on what a preset may ask for: its size in bytes and its runs (models x seeds). */
enum { TS_PRESET_MAX_BYTES = 1 << 20, TS_PRESET_MAX_RUNS = 4096 };

/* Loads a preset by name (quick, seed, … from the presets folder) or from a FILE.json. */
ts_status ts_preset_load(const char *name_or_file, ts_preset *out);
void ts_preset_free(ts_preset *p);
/* The same from a preset's text; `path` names it in messages (the fuzz harness's entry). */
ts_status ts_preset_parse(const char *text, size_t len, const char *path, ts_preset *out);

/* The folder named presets are read from: $TUNESCALE_PRESETS, else bench/presets next to the
 * binary's source tree. */
const char *ts_preset_dir(void);

#endif
