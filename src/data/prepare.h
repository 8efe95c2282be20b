/*
 * prepare.h — `tunescale data prepare`: the dataset stage of the pipeline, end to end.
 *
 *   fetch → ingest → clean → filter → dedupe → subsample → vocab → split → encode
 *
 * Output directory: dataset.json (options, counts per stage and drop reason, sha256 of every
 * artefact), vocab.json, train.bin/val.bin/test.bin (little-endian uint16 token ids) and
 * splits.tsv (which tune went where). Artefacts are built in a staging folder and moved into
 * place only when all are written, dataset.json last, so a failed run leaves nothing partial.
 * The stage is cached: a run whose inputs and options hash to the cache_key of an intact
 * existing dataset.json does nothing.
 */
#ifndef TS_DATA_PREPARE_H
#define TS_DATA_PREPARE_H

#include <stddef.h>
#include <stdint.h>

#include "data/clean.h"
#include "data/text.h"
#include "util/error.h"

typedef enum { TS_FRAMING_SOS_EOS, TS_FRAMING_NEWLINE } ts_framing;

typedef struct {
    const char *const
        *inputs; /* paths, folders, archives, URLs, or the named source "thesession" */
    size_t n_inputs;
    const char *out_dir;
    const char *cache_dir; /* downloads; NULL = $XDG_CACHE_HOME/tunescale or ~/.cache/tunescale */
    const char *sha256;    /* expected digest of a single URL input, or NULL */
    ts_clean_mode clean;
    ts_encoding encoding;
    ts_framing framing;
    uint64_t max_chars; /* subsample budget (characters incl. one separator per tune) */
    uint64_t seed;
    uint32_t min_len, max_len; /* tune length filter, in characters */
    double val_frac, test_frac;
    uint64_t max_download; /* bytes a download may have; 0: the fetch default */
    double timeout_s;      /* seconds a download may take in all, retries included; 0: default */
    uint64_t max_unpacked; /* bytes an archive may unpack to; 0: the ingest default */
    int force;             /* ignore the cache */
    int accept_license;    /* required by named sources whose licence restricts use */
} ts_prepare_options;

void ts_prepare_options_default(ts_prepare_options *o);

/* Runs the stage. *cached is set to 1 when an existing intact dataset was reused. */
ts_status ts_data_prepare(const ts_prepare_options *o, int *cached);

/* Checks OUT/dataset.json and the sha256 of every artefact it lists. Returns TS_OK if intact;
 * key_out (65 bytes, may be NULL) receives its cache_key. */
ts_status ts_dataset_verify(const char *out_dir, char *key_out);

const char *ts_framing_name(ts_framing f);

#endif
