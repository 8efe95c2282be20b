/*
 * evalset.h — quality figures for a folder of generated tunes (.abc files from `sample`):
 *
 *   strict validity   share of files that are ABC 2.1 as written: ts_abc_check finds no
 *                     error and no extension (other warnings allowed)
 *   reference-tool validity  share ts_abc_check finds no error in: what abcm2ps and abc2midi
 *                     read, their extensions included
 *   loose validity    share passing the notebook's check (X: or T:, K:, a note letter)
 *   MIDI conversion   share ts_abc_to_midi_file converts (NAME.mid written beside NAME.abc)
 *   novelty           share of the generated 16-character windows that occur nowhere in the
 *                     training split (windows lying wholly inside a prompt, known from
 *                     samples.json, are not counted: they were not generated)
 *   meter consistency bars whose length matches M:, over bars whose length M: fixes
 */
#ifndef TS_GEN_EVALSET_H
#define TS_GEN_EVALSET_H

#include <cjson/cJSON.h>

#include "data/vocab.h"

enum { TS_NOVELTY_WINDOW = 16 };

typedef struct {
    int files, strict_valid, reference_valid, loose_valid, midi_ok;
    long windows, novel_windows;
    long bars_total, bars_consistent;
} ts_sample_metrics;

/* Evaluates every *.abc in dir (name order). train_bin may be NULL (no novelty). per_file, if
 * not NULL, receives one object per file. */
ts_status ts_eval_samples(const char *dir, const ts_vocab *v, const char *train_bin,
                          ts_sample_metrics *out, cJSON *per_file);

/* The metrics as a JSON object (percentages 0..100, novelty and meter as fractions 0..1; null
 * where undefined). */
cJSON *ts_sample_metrics_json(const ts_sample_metrics *m);

#endif
