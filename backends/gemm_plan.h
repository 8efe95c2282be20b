/*
 * gemm_plan.h — which SGEMM kernel a GPU backend runs for which product, and the tuning file
 * that `tunescale tune` writes.
 *
 * Both GPU backends carry one design of tiled SGEMM (cl/gemm_tiled.cl, shaders/gemm_tiled.comp):
 * a (WGN x WGM) work-group computes a (WGM*TM) x (WGN*TN) tile of C, TK columns of K at a time,
 * double-buffered in local memory; skinny products may split K into partial products that a
 * second kernel adds in a fixed order. The tile shapes the tuner may choose are the fixed list
 * ts_gemm_tiles (every one is covered by the parity test). A product falls into a shape class;
 * the plan says per class which kernel runs: the backend's built-in path (CLBlast on OpenCL,
 * gemm.comp / gemm_direct on Vulkan, each with its variants) or the tiled kernel with a tile and a
 * split-K factor.
 *
 * The tuning file lives at <cache>/tune/<backend>-<device>.json (the peak cache's directory
 * scheme, peak_cache.h) and names device, driver and tunescale version: a file written for
 * another one is ignored with a warning, and so is a corrupt one.
 */
#ifndef TS_BACKENDS_GEMM_PLAN_H
#define TS_BACKENDS_GEMM_PLAN_H

#include <stddef.h>

#include "backends/backend.h"

typedef struct {
    int wgn, wgm; /* work-group: items along N (x) and along M (y) */
    int tn, tm;   /* outputs per item along N and along M (register block) */
    int tk;       /* columns of K per local-memory tile (a multiple of 4) */
} ts_gemm_tile;

#define TS_GEMM_TILES 6
extern const ts_gemm_tile ts_gemm_tiles[TS_GEMM_TILES];

/* The split-K factors the tuner tries (1: no split); the parity test runs each. */
#define TS_GEMM_SPLITS 3
extern const int ts_gemm_split_choices[TS_GEMM_SPLITS];

typedef enum {
    TS_GEMM_REGULAR, /* batch 1, both sides wide */
    TS_GEMM_SKINNY,  /* batch 1, M or N at most 64 (the LSTM's recurrent products) */
    TS_GEMM_DEEPK,   /* batch 1, K at least 4x max(M, N) (weight gradients) */
    TS_GEMM_BATCHED, /* batch > 1 (attention) */
    TS_GEMM_CLASSES
} ts_gemm_class;

const char *ts_gemm_class_name(ts_gemm_class c);
ts_gemm_class ts_gemm_classify(int M, int N, int K, int batch);

typedef enum { TS_GEMM_BUILTIN = 0, TS_GEMM_TILED = 1 } ts_gemm_kernel;

typedef struct {
    int kernel;  /* ts_gemm_kernel */
    int tile;    /* index into ts_gemm_tiles (TS_GEMM_TILED) */
    int split_k; /* 1: no split; else partial products over K / split_k columns each */
    int variant; /* TS_GEMM_BUILTIN: 0 the backend's default form, k > 0 its variant k: on
                  * OpenCL CLBlast's parameter set k (backends/clblast_params.h, applied with
                  * CLBlastOverrideParameters), on Vulkan CPU devices gemm_direct4's register
                  * block k (VK_GEMM_DIRECT4_BLOCKS, vulkan_internal.h) */
} ts_gemm_choice;

/* Built-in variants a plan may name (bits of ts_gemm_plan.variants, 1..TS_GEMM_VARIANTS_MAX-1). */
#define TS_GEMM_VARIANTS_MAX 16

typedef struct {
    int loaded; /* the tuning file was looked for */
    int tuned;  /* ... and found valid for this device */
    int forced; /* force applies to every class (tests, bench gemm, the tuner) */
    ts_gemm_choice force;
    ts_gemm_choice cls[TS_GEMM_CLASSES];     /* what runs */
    ts_gemm_choice untuned[TS_GEMM_CLASSES]; /* the defaults from device facts */
    ts_gemm_choice ours[TS_GEMM_CLASSES];    /* the best tiled choice (bench gemm's column) */
    unsigned variants; /* bit k-1: built-in variant k runs on this device (0: none) */
    /* 1 when a plan cannot mix the default form with variants (CLBlast cannot go back to its
     * own parameters once a set was applied): the tuner then keeps one kind per plan */
    int variants_exclusive;
    const char *variant_names; /* what each variant is, for people ("v1 16x2, ..."), or NULL */
    /* Vulkan: the variant the last built-in product ran (-1: a form without variants, the
     * scalar or tiled built-in shader), so tests see that a forced variant did run */
    int ran_variant;
    /* The tuner's trials: a built-in kernel that fails while `trial` is set records why in
     * trial_why and sets trial_failed instead of the backend's sticky error. */
    int trial, trial_failed;
    char trial_why[320];
} ts_gemm_plan;

/* The plan of a GPU backend (NULL on the cpu), loading the tuning file on first use; the
 * untuned plan comes from device facts (ts_gemm_defaults). */
ts_gemm_plan *ts_gemm_plan_of(ts_backend *be);
/* The choice for one product under the plan. */
ts_gemm_choice ts_gemm_pick(const ts_gemm_plan *plan, int M, int N, int K, int batch);
/* Splits actually used for a product: at most split_k, each at least 2*tk columns of K. */
int ts_gemm_splits(const ts_gemm_choice *c, int K);

/* Device facts the untuned defaults come from. */
typedef struct {
    int compute_units;
    size_t local_mem_bytes;
    int subgroup; /* 0 unknown */
    int is_cpu;   /* a CPU device (PoCL, lavapipe) */
} ts_gemm_facts;
void ts_gemm_defaults(const ts_gemm_facts *f, int has_builtin_fast, ts_gemm_plan *out);

/* The tuning file of (backend, device): its path (0 when no cache directory can be named). */
int ts_gemm_tuning_path(const char *backend, const char *device, char *out, size_t cap);
/* Reads the tuning file into plan->cls and plan->ours: 1 valid, 0 absent, -1 corrupt or foreign
 * (then `why` says what is wrong and plan->cls is left alone). */
int ts_gemm_tuning_load(const char *backend, const char *device, const char *driver,
                        ts_gemm_plan *plan, char *why, size_t why_cap);
/* Writes plan->cls and plan->ours (with the winners' GFLOP/s per class, may be NULL)
 * atomically. */
ts_status ts_gemm_tuning_store(const char *backend, const char *device, const char *driver,
                               const ts_gemm_plan *plan, const double *gflops);

/* The first class whose choice names a built-in variant outside plan->variants (a tuning file
 * of another build or device), or -1. */
int ts_gemm_variant_unfit(const ts_gemm_plan *plan);

/* The tuner's trial of a choice is over: the backend puts back what the trial changed beyond
 * the product (OpenCL: the CLBlast parameters applied before it). */
void ts_gemm_trial_end(ts_backend *be);

/* TUNESCALE_GEMM, for measuring one kernel on a whole run (bench step, training): "tiled"
 * (the device's default tile, no split), "tiled:TILE" or "tiled:TILE:SPLIT" (an index into
 * ts_gemm_tiles and a split-K factor), "builtin" or "builtin:VARIANT" (one of plan->variants)
 * forces that choice on every product.
 * Returns 1 when unset or applied to plan, 0 with `why` on a bad value. */
int ts_gemm_env_force(ts_gemm_plan *plan, char *why, size_t why_cap);

/* Backend hooks (opencl_gemm.c, vulkan_gemm.c): the plan inside the context, and the facts. */
ts_gemm_plan *ocl_gemm_plan(ts_backend *be);
void ocl_gemm_trial_end(ts_backend *be);
ts_gemm_plan *vk_gemm_plan(ts_backend *be);

/* For `devices`, without a backend: 1 tuned, 2 tuned with CLBlast parameters in some class, 0
 * no file, -1 a file for another driver or version, or corrupt. `driver` may be a part of the
 * driver string the backend reports. */
int ts_gemm_tuning_state(const char *backend, const char *device, const char *driver);

#endif
