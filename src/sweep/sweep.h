/*
 * sweep.h — a scaling sweep: every (backend, model, seed) of a preset trained once, each run in
 * its own child process (`tunescale train`), results cached by a key of everything that decides
 * the numbers, so that a re-run skips finished runs and an interrupted one resumes.
 *
 * Under mpirun (K ranks) the pending runs are dealt out to the ranks, largest first, each to the
 * rank with the least work so far; each rank takes device local_rank % devices; rank 0 holds
 * the folder's lock, and writes the manifest and report once every rank is done. A run folder
 * is locked while a process trains it, so two sweeps sharing a folder never train one run
 * twice.
 *
 * Layout of OUT:
 *   sweep.json                      manifest: the plan and every run's status (rewritten
 *                                   atomically after each run)
 *   models/NAME.json                the shapes of the preset's custom models
 *   runs/BACKEND/MODEL-sSEED-KEY/   one run folder: result.json, checkpoint.safetensors,
 *                                   model.safetensors, train.log (the child's output), run.json
 *   summary.md, summary.csv, plots/ the report (tunescale report OUT)
 */
#ifndef TS_SWEEP_SWEEP_H
#define TS_SWEEP_SWEEP_H

#include <stddef.h>

#include "sweep/preset.h"

typedef struct {
    const char *preset;   /* quick | seed | FILE.json */
    const char *data_dir; /* tunescale data prepare output */
    const char *backends; /* comma-separated */
    const char *out_dir;
    int device;
    int threads;         /* 0: the backend's default */
    size_t mem_limit;    /* 0: none */
    int force;           /* re-run finished runs */
    const char *models;  /* comma-separated subset of the preset's models, or NULL */
    double max_params;   /* only models up to this many parameters (0: all) */
    ts_run_hparams over; /* command-line overrides; zero fields keep the preset's */
    int dry_run;         /* print the plan only */
    int quiet;
    long checkpoint_every; /* steps, passed to every run (0: the trainer's time-based default) */
    int device_set;        /* --device given: every MPI rank uses it (else local rank % devices) */
    /* Sharing one sweep between processes that do not talk to each other (Slurm job arrays,
     * --shard I/K): this one runs the runs j of the plan with j % shard_count == shard_index,
     * writes no report, and holds the folder's lock shared. shard_count 0: the whole plan. */
    int shard_index, shard_count;
} ts_sweep_options;

typedef struct {
    int total, ran, skipped_cached, ok, oom, failed;
    int interrupted; /* stopped by SIGINT/SIGTERM: finished runs are kept, the rest resume */
    int busy;        /* left alone: another process was training them */
    int report;      /* this process should write the report (not a shard, MPI rank 0) */
} ts_sweep_outcome;

/* Runs the sweep. Returns TS_OK when every run ended (ok, skipped or failed: failures are
 * recorded, not fatal); TS_EUSAGE for a bad preset, data folder or backend list; TS_ERR when the
 * sweep itself cannot go on (out folder not writable, interrupted). */
ts_status ts_sweep(const ts_sweep_options *o, ts_sweep_outcome *out);

/* TS_EUSAGE when o->out_dir's manifest names another preset or data set (and o->force is not
 * set), before anything there is written (out_check.c). */
ts_status ts_sweep_check_out(const ts_sweep_options *o);

#endif
