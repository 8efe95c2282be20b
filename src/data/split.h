/*
 * split.h — tune-level train/val/test split that keeps every setting of one tune together.
 *
 * The unit is the group (tune id, or normalised title for ABC files): groups are shuffled with
 * the seeded Philox stream and dealt to val, then test, until each holds its share of tunes;
 * the rest is train. So no tune — and no other setting of it — is in two splits.
 */
#ifndef TS_DATA_SPLIT_H
#define TS_DATA_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "data/tunes.h"

enum { TS_SPLIT_TRAIN = 0, TS_SPLIT_VAL = 1, TS_SPLIT_TEST = 2, TS_N_SPLITS = 3 };
extern const char *const ts_split_names[TS_N_SPLITS];

/* Writes split[i] for each tune, and the number of groups in each split (may be NULL).
 * val_frac/test_frac of the tunes (at least one each when there are three or more groups). Returns
 * the number of groups, or (size_t)-1 on out of memory. */
size_t ts_split_tunes(const ts_tune_list *tunes, uint64_t seed, double val_frac, double test_frac,
                      uint8_t *split, size_t groups_per_split[TS_N_SPLITS]);

#endif
