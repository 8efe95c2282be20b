/*
 * gemm_tune.h — the matrix products the preset models run, timing one product under a GEMM
 * choice, and the search behind `tunescale tune` (backends/gemm_plan.h holds the plan and the
 * tuning file).
 */
#ifndef TS_TUNE_GEMM_TUNE_H
#define TS_TUNE_GEMM_TUNE_H

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "backends/gemm_plan.h"

typedef struct {
    int ta, tb, M, N, K, batch;
    float beta;
    int rows;      /* which size carries the token count (0 M, 2 K, 3 batch, -1 none) */
    char what[48]; /* "transformer-20M B64 fc fwd" */
} ts_gemm_shape;

/* The products of the named presets (forward, input gradient, weight gradient, attention,
 * recurrent) at their batch, one per distinct (transposes, M, N, K, batch); returns the count
 * (at most cap). */
int ts_gemm_model_shapes(ts_gemm_shape *out, int cap);

/* Seconds per product of shape s under choice c (forced on the plan; NULL: what the plan picks),
 * over `reps` timed products after one warm-up; < 0 with an error recorded on failure (a wrong
 * result included). */
double ts_gemm_time(ts_backend *be, const ts_gemm_shape *s, const ts_gemm_choice *c, int reps);

/* 2*M*N*K*batch */
double ts_gemm_flops(const ts_gemm_shape *s);

typedef struct {
    double budget_s; /* wall-clock budget of the whole search */
    double start;    /* ts_now() when the command started (0: now), where the budget counts from */
    int progress;    /* progress lines with ETA on stderr */
} ts_gemm_tune_options;

/* Times every candidate on (scaled-down) model shapes of each class, keeps the fastest per
 * class in plan->cls, and describes what it did in *report (a JSON object: classes with the
 * winner, its GFLOP/s and tuned / untuned; candidates timed). gflops[c] gets the winner's. */
ts_status ts_gemm_tune(ts_backend *be, ts_gemm_plan *plan, const ts_gemm_tune_options *o,
                       double *gflops, cJSON *report);

/* "builtin", "tiled t2 s4" */
void ts_gemm_choice_name(const ts_gemm_choice *c, char *out, size_t cap);

#endif
