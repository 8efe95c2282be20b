/* split.c — group-aware seeded split (see split.h). */
#include "data/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/philox.h"

const char *const ts_split_names[TS_N_SPLITS] = {"train", "val", "test"};

enum { SPLIT_STREAM = 0x5350u }; /* Philox stream id reserved for the split ("SP") */

static const ts_tune_list *sort_tunes;
static int by_group(const void *a, const void *b) {
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    int c = strcmp(sort_tunes->v[i].group, sort_tunes->v[j].group);
    return c ? c : (i > j) - (i < j);
}

static const uint32_t *sort_first;
static int by_first(const void *a, const void *b) {
    uint32_t i = sort_first[*(const uint32_t *)a], j = sort_first[*(const uint32_t *)b];
    return (i > j) - (i < j);
}

size_t ts_split_tunes(const ts_tune_list *tunes, uint64_t seed, double val_frac, double test_frac,
                      uint8_t *split, size_t groups_per_split[TS_N_SPLITS]) {
    size_t n = tunes->n;
    if (groups_per_split)
        for (int h = 0; h < TS_N_SPLITS; h++)
            groups_per_split[h] = 0;
    if (n == 0) return 0;
    uint32_t *order = malloc(n * sizeof *order);
    uint32_t *group_of = malloc(n * sizeof *group_of);
    uint32_t *first = malloc(n * sizeof *first); /* first tune (input order) of each group */
    uint32_t *size = calloc(n, sizeof *size);
    if (!order || !group_of || !first || !size) {
        free(order), free(group_of), free(first), free(size);
        return (size_t)-1;
    }
    /* Number groups by sorting on the key (qsort is not stable, hence the index tie-break). */
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    sort_tunes = tunes;
    qsort(order, n, sizeof *order, by_group);
    uint32_t groups = 0;
    for (size_t k = 0; k < n; k++) {
        if (k == 0 || strcmp(tunes->v[order[k]].group, tunes->v[order[k - 1]].group)) {
            first[groups++] = order[k];
        }
        group_of[order[k]] = groups - 1;
        size[groups - 1]++;
    }
    /* Deal groups in an order that depends only on the seed and the keys' first appearance,
     * not on the sort: rank groups by their first tune, then shuffle. */
    uint32_t *deal = order; /* reuse */
    for (uint32_t g = 0; g < groups; g++)
        deal[g] = g;
    sort_first = first;
    qsort(deal, groups, sizeof *deal, by_first);
    ts_rng rng;
    ts_rng_init(&rng, seed, SPLIT_STREAM);
    ts_rng_shuffle_u32(&rng, deal, groups);

    size_t want[TS_N_SPLITS] = {0, (size_t)floor(val_frac * (double)n),
                                (size_t)floor(test_frac * (double)n)};
    if (groups >= 3) {
        if (val_frac > 0 && want[TS_SPLIT_VAL] == 0) want[TS_SPLIT_VAL] = 1;
        if (test_frac > 0 && want[TS_SPLIT_TEST] == 0) want[TS_SPLIT_TEST] = 1;
    }
    size_t have[TS_N_SPLITS] = {0};
    /* A group joins val or test only if it fits what that split still needs, so a large group
     * (a tune with many settings) can never swallow a held-out split; it trains instead. */
    uint8_t *group_split = (uint8_t *)first; /* reuse: first[] is no longer needed */
    uint32_t count[TS_N_SPLITS] = {0};
    for (uint32_t k = 0; k < groups; k++) {
        uint32_t g = deal[k];
        uint8_t s = TS_SPLIT_TRAIN; /* else the held-out split that fits and is emptiest */
        for (uint8_t h = TS_SPLIT_VAL; h <= TS_SPLIT_TEST; h++)
            if (have[h] + size[g] <= want[h] &&
                (s == TS_SPLIT_TRAIN || (double)have[h] / want[h] < (double)have[s] / want[s]))
                s = h;
        have[s] += size[g];
        group_split[g] = s;
        count[s]++;
    }
    /* Still empty (every group was too large): move the smallest training group over, as
     * long as training keeps one. */
    for (uint8_t h = TS_SPLIT_VAL; h <= TS_SPLIT_TEST; h++) {
        if (count[h] || !want[h] || count[TS_SPLIT_TRAIN] < 2) continue;
        uint32_t best = UINT32_MAX;
        for (uint32_t k = 0; k < groups; k++) {
            uint32_t g = deal[k];
            if (group_split[g] == TS_SPLIT_TRAIN && (best == UINT32_MAX || size[g] < size[best]))
                best = g;
        }
        group_split[best] = h;
        count[TS_SPLIT_TRAIN]--;
        count[h]++;
    }
    if (groups_per_split)
        for (int h = 0; h < TS_N_SPLITS; h++)
            groups_per_split[h] = count[h];
    for (size_t i = 0; i < n; i++)
        split[i] = group_split[group_of[i]];
    free(order), free(group_of), free(first), free(size);
    return groups;
}
