/*
 * sampleset.h — a set of samples from one model written as files: one .abc per sample and an
 * index, samples.json (schema tunescale.samples/1: per sample its file, prompt, seed, index,
 * temperature, prompt and generated token counts, stop reason, time and text).
 */
#ifndef TS_GEN_SAMPLESET_H
#define TS_GEN_SAMPLESET_H

#include <cjson/cJSON.h>

#include "gen/load.h"
#include "gen/sample.h"

typedef struct {
    const char *prompt; /* NULL or "": unconditional, from <SOS> */
    float temperature;
    char name[64]; /* file stem; "" gives sample_NNN */
} ts_sample_job;

/* Draws job i as sample index i (so each sample depends on (seed, i) only) with o's settings
 * and the job's temperature. With out_dir, writes out_dir/NAME.abc and out_dir/samples.json.
 * *doc receives the index document (caller frees). */
ts_status ts_sample_set(ts_loaded *l, const ts_sample_job *jobs, int n, const ts_sample_options *o,
                        const char *out_dir, cJSON **doc);

/* The text of a sample: decoded tokens, specials dropped, trailing blank lines cut to one
 * final newline (malloc'd). */
char *ts_sample_text(const ts_vocab *v, const int32_t *tokens, int n);

#endif
