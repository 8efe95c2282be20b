/*
 * trainer.h — one training run: data windows, AdamW with warmup + cosine, clipping, periodic
 * atomic checkpoints, exact resume, evaluation on the whole validation split, and the run's
 * result JSON.
 */
#ifndef TS_TRAIN_TRAINER_H
#define TS_TRAIN_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "backends/precision.h"
#include "model/model.h"
#include "train/step.h"
#include "util/error.h"

typedef struct {
    const char *model;    /* name or FILE.json */
    const char *data_dir; /* output of tunescale data prepare */
    const char *backend;  /* cpu | opencl | vulkan */
    int device;
    int threads;
    long steps; /* exactly one of steps / tokens / epochs decides the length */
    double tokens;
    double epochs;
    int batch;        /* 0: the notebook's 64 (32 for models above 30M parameters) */
    int seq_len;      /* 256 */
    int stride;       /* 0: seq_len */
    ts_optimizer opt; /* AdamW and clipping (ts_optimizer_default) */
    long warmup;      /* -1: min(500, steps / 10) */
    double dropout;   /* < 0: the model's (0.1) */
    uint64_t seed;
    size_t mem_limit;
    const char *out_dir;
    int resume;            /* continue from out_dir/checkpoint.safetensors */
    const char *init;      /* initial weights (safetensors with PyTorch names) */
    long checkpoint_every; /* steps; 0: every checkpoint_seconds */
    double checkpoint_seconds;
    int eval; /* evaluate on val at the end (default 1) */
    int test; /* also evaluate on test */
    int quiet;
    int no_shuffle;         /* visit windows in file order (for parity runs against PyTorch) */
    long max_nonfinite;     /* stop as diverged after this many non-finite steps in a row (20) */
    const char *losses_out; /* optional: per-step losses as text, one per line */
    ts_precision precision; /* --precision (backends/precision.h); fp16 adds loss scaling */
} ts_train_options;

/* A supervising process (tunescale sweep) may pass a pipe in TUNESCALE_PROGRESS_FD: the run then
 * writes machine-readable progress lines to it, at most four a second:
 *   step STEP TOTAL_STEPS TOKENS LOSS TOKENS_PER_S
 *   phase eval|done
 */
void ts_train_options_default(ts_train_options *o);

/* Runs training; returns TS_ENOMEM when the model does not fit (the run is recorded as skipped
 * in result.json), TS_EUSAGE for bad options, TS_ERR for other failures. */
ts_status ts_train(const ts_train_options *o);

/* Mean cross-entropy of model m over every non-<PAD> target of DIR/SPLIT.bin ("val", "test"),
 * in windows of T tokens at stride T, batches of up to B, no dropout (what result.json's
 * val_loss and test_loss are); *tokens receives the number of targets counted. */
ts_status ts_evaluate_split(ts_model *m, const char *data_dir, const char *split, int B, int T,
                            double *loss, double *tokens);

#endif
