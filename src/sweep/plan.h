/*
 * plan.h — the runs of a sweep: one per (backend, preset model, seed), each with the key of
 * everything that decides its numbers and the folder that key names.
 */
#ifndef TS_SWEEP_PLAN_H
#define TS_SWEEP_PLAN_H

#include <cjson/cJSON.h>

#include "data/dataset_json.h"
#include "sweep/sweep.h"

typedef enum {
    TS_RUN_PENDING = 0,
    TS_RUN_CACHED, /* finished in an earlier invocation */
    TS_RUN_OK,
    TS_RUN_OOM,
    TS_RUN_FAILED,
    TS_RUN_BUSY, /* another process holds its folder's lock */
} ts_run_state;

typedef struct {
    char backend[16];
    const ts_preset_entry *entry;
    ts_model_config cfg; /* vocab from the dataset */
    ts_run_hparams hp;   /* preset + command-line overrides */
    size_t params;
    double work;          /* estimated FLOPs of the whole run, for the ETA */
    char key[17];         /* 16 hex digits of the sha256 of the run's identity */
    char dir[4096];       /* OUT/runs/BACKEND/MODEL-sSEED-KEY */
    char model_arg[4200]; /* --model: a name or OUT/models/NAME.json */
    ts_run_state state;
    char status[512]; /* result.json status once known */
    double val_loss, tokens_per_s, wall_s;
    int attempts;
    int device; /* --device of its run */
    int owner;  /* the MPI rank (or 0) that trains it in this invocation; -1: another shard's */
} ts_sweep_run;

typedef struct {
    ts_preset preset;
    ts_dataset dataset; /* dataset.json */
    ts_sweep_run *runs;
    int n_runs;
} ts_sweep_plan;

/* Builds the plan (writes OUT/models/NAME.json for custom shapes unless dry_run). */
ts_status ts_sweep_plan_build(const ts_sweep_options *o, char backends[][16], int n_backends,
                              ts_sweep_plan *plan);
void ts_sweep_plan_free(ts_sweep_plan *plan);

#endif
