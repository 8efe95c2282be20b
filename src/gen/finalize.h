/*
 * finalize.h — the study's final phase (the notebook's last sections), resumable:
 *
 *   1. best run: lowest val_loss among result.json files with status "ok" under the sweep
 *   2. train it further (ts_train with --init from its weights; default 3 epochs at lr 2e-4,
 *      the run's other hyper-parameters kept) into OUT/train; an interrupted run resumes from
 *      its checkpoint, a finished one is not repeated
 *   3. sample n unconditional tunes (temperature 0.9) and n from the notebook's five header
 *      prompts (temperature 0.8) into OUT/samples, then convert and evaluate them
 *   4. write OUT/final.json and OUT/ARTEFACTS.md (metrics table, the tunes, links)
 */
#ifndef TS_GEN_FINALIZE_H
#define TS_GEN_FINALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct {
    const char *sweep_dir;
    const char *out_dir;  /* NULL: SWEEP_DIR/final */
    const char *data_dir; /* NULL: the best run's dataset.dir */
    const char *backend;
    int device, threads;
    double epochs; /* 3 */
    double lr;     /* 2e-4 */
    double tokens; /* > 0: train this many tokens instead of epochs (tests) */
    int n;         /* 5 */
    int max_len;   /* 400 */
    uint64_t seed;
    int quiet;
} ts_finalize_options;

void ts_finalize_options_default(ts_finalize_options *o);
ts_status ts_finalize(const ts_finalize_options *o);

/* The notebook's five header prompts. */
extern const char *const ts_notebook_prompts[5];

#endif
