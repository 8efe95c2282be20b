/*
 * dataset_json.h — the one reader and writer of DIR/dataset.json, the description
 * `tunescale data prepare` writes beside a dataset's artefacts. Every other module (trainer,
 * sweep plan, checkpoint loader, the data command) asks this one. Reading checks every field it
 * hands out: a missing or wrong-typed field is a one-line error naming the file and the key.
 */
#ifndef TS_DATA_DATASET_JSON_H
#define TS_DATA_DATASET_JSON_H

#include <cjson/cJSON.h>

#include "data/split.h"
#include "util/error.h"

/* The artefacts dataset.json lists under "files", each with its name and sha256. */
enum {
    TS_DATASET_VOCAB,
    TS_DATASET_TRAIN,
    TS_DATASET_VAL,
    TS_DATASET_TEST,
    TS_DATASET_INDEX,
    TS_DATASET_N_FILES
};
extern const char *const ts_dataset_file_keys[TS_DATASET_N_FILES]; /* "vocab", "train", ... */

typedef struct {
    char path[4200]; /* DIR/dataset.json, for messages */
    cJSON *doc;      /* the whole document, for printing */
    int vocab_size;
    const char *hash;      /* dataset_hash: what the data is (cache keys of runs) */
    const char *cache_key; /* the inputs and options it was made from */
    int newline_framing;   /* options.framing "newline" (else each tune is <SOS> ... <EOS>) */
    double split_tokens[TS_N_SPLITS];
    const char *file_name[TS_DATASET_N_FILES], *file_sha256[TS_DATASET_N_FILES];
} ts_dataset;

/* Reads and checks DIR/dataset.json. No file: TS_EUSAGE saying to run data prepare; a file that
 * is not JSON or lacks a field: TS_ERR naming the file and the key. ts_dataset_free after. */
ts_status ts_dataset_read(const char *dir, ts_dataset *d);
void ts_dataset_free(ts_dataset *d);

/* Writes doc as DIR/dataset.json, atomically (a reader sees the old file or the new one). */
ts_status ts_dataset_write(const char *dir, const cJSON *doc);

#endif
