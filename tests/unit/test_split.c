/*
 * test_split.c — unit tests for the group-aware train/val/test split (src/data/split.c) and,
 * end to end on the bundled corpus (TS_CORPUS), for what `data prepare` writes: splits.tsv,
 * the .bin files and dataset.json, its cache and its determinism.
 *
 * Tune lists are built here with known groups; expected sizes follow from the documented rule
 * (floor(frac * tunes), at least one each for val and test once there are three groups).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepare.h"
#include "data/split.h"
#include "data/tunes.h"
#include "util/fsutil.h"

/* ---- helpers ---- */

static void push(ts_tune_list *l, const char *group, uint32_t index) {
    char text[64];
    snprintf(text, sizeof text, "X:%u\nK:C\nabc", index);
    char *copy = strdup(text);
    assert_non_null(copy);
    assert_int_equal(ts_tunes_push(l, copy, group, "mem.abc", index), TS_OK);
}

/* n tunes, each its own group. */
static ts_tune_list singles(size_t n) {
    ts_tune_list l = {0};
    char g[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(g, sizeof g, "g%05zu", i);
        push(&l, g, (uint32_t)i);
    }
    return l;
}

static void count_splits(const uint8_t *split, size_t n, size_t counts[TS_N_SPLITS]) {
    for (int s = 0; s < TS_N_SPLITS; s++)
        counts[s] = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(split[i] < TS_N_SPLITS);
        counts[split[i]]++;
    }
}

static void check_group_sum(size_t groups, const size_t per[TS_N_SPLITS]) {
    assert_int_equal(per[0] + per[1] + per[2], groups);
}

/* ---- ts_split_tunes ---- */

static void test_split_names(void **state) {
    (void)state;
    assert_string_equal(ts_split_names[TS_SPLIT_TRAIN], "train");
    assert_string_equal(ts_split_names[TS_SPLIT_VAL], "val");
    assert_string_equal(ts_split_names[TS_SPLIT_TEST], "test");
}

static void test_deterministic(void **state) {
    (void)state;
    ts_tune_list l = singles(1000);
    uint8_t a[1000], b[1000], c[1000];
    size_t per[TS_N_SPLITS];
    assert_int_equal(ts_split_tunes(&l, 42, 0.01, 0.01, a, per), 1000);
    assert_int_equal(ts_split_tunes(&l, 42, 0.01, 0.01, b, NULL), 1000);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(ts_split_tunes(&l, 43, 0.01, 0.01, c, NULL), 1000);
    size_t differ = 0;
    for (size_t i = 0; i < 1000; i++)
        differ += a[i] != c[i];
    /* Two random 20-of-1000 picks share few members: most of the 40 positions differ. */
    assert_true(differ >= 10);
    ts_tunes_free(&l);
}

static void test_sizes_exact(void **state) {
    (void)state;
    ts_tune_list l = singles(1000);
    uint8_t split[1000];
    size_t per[TS_N_SPLITS], counts[TS_N_SPLITS];
    assert_int_equal(ts_split_tunes(&l, 7, 0.01, 0.01, split, per), 1000);
    count_splits(split, 1000, counts);
    assert_int_equal(counts[TS_SPLIT_VAL], 10);
    assert_int_equal(counts[TS_SPLIT_TEST], 10);
    assert_int_equal(counts[TS_SPLIT_TRAIN], 980);
    assert_int_equal(per[TS_SPLIT_VAL], 10);
    assert_int_equal(per[TS_SPLIT_TEST], 10);
    assert_int_equal(per[TS_SPLIT_TRAIN], 980);
    check_group_sum(1000, per);
    /* floor(0.055 * 1000) = 55 and floor(0.1 * 1000) = 100. */
    assert_int_equal(ts_split_tunes(&l, 7, 0.055, 0.1, split, per), 1000);
    count_splits(split, 1000, counts);
    assert_int_equal(counts[TS_SPLIT_VAL], 55);
    assert_int_equal(counts[TS_SPLIT_TEST], 100);
    ts_tunes_free(&l);
}

/* A small linear congruential generator of the test's own, to interleave groups. */
static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_groups_disjoint(void **state) {
    (void)state;
    enum { GROUPS = 150, MAXSIZE = 7 };
    /* Group g has 1 + g % 7 settings; the settings are interleaved in a random order. */
    uint32_t labels[GROUPS * MAXSIZE];
    size_t n = 0;
    for (uint32_t g = 0; g < GROUPS; g++)
        for (uint32_t k = 0; k < 1 + g % MAXSIZE; k++)
            labels[n++] = g;
    uint32_t seed = 12345;
    for (size_t i = n; i > 1; i--) {
        size_t j = lcg(&seed) % i;
        uint32_t t = labels[i - 1];
        labels[i - 1] = labels[j];
        labels[j] = t;
    }
    ts_tune_list l = {0};
    for (size_t i = 0; i < n; i++) {
        char g[32];
        snprintf(g, sizeof g, "id:%u", labels[i]);
        push(&l, g, (uint32_t)i);
    }
    uint8_t *split = malloc(n);
    assert_non_null(split);
    for (uint64_t s = 1; s <= 5; s++) {
        size_t per[TS_N_SPLITS], counts[TS_N_SPLITS];
        assert_int_equal(ts_split_tunes(&l, s, 0.1, 0.1, split, per), GROUPS);
        check_group_sum(GROUPS, per);
        int group_split[GROUPS];
        for (int g = 0; g < GROUPS; g++)
            group_split[g] = -1;
        for (size_t i = 0; i < n; i++) {
            if (group_split[labels[i]] < 0) group_split[labels[i]] = split[i];
            assert_int_equal(group_split[labels[i]], split[i]); /* one split per group */
        }
        size_t groups_in[TS_N_SPLITS] = {0};
        for (int g = 0; g < GROUPS; g++)
            groups_in[group_split[g]]++;
        for (int k = 0; k < TS_N_SPLITS; k++)
            assert_int_equal(groups_in[k], per[k]);
        /* Groups are dealt until a split holds its share: it overshoots by less than one
         * group. */
        count_splits(split, n, counts);
        size_t want = (size_t)floor(0.1 * (double)n);
        assert_in_range(counts[TS_SPLIT_VAL], want, want + MAXSIZE - 1);
        assert_in_range(counts[TS_SPLIT_TEST], want, want + MAXSIZE - 1);
        assert_true(counts[TS_SPLIT_TRAIN] > n / 2);
    }
    free(split);
    ts_tunes_free(&l);
}

static void test_minimum_one_each(void **state) {
    (void)state;
    uint8_t split[10];
    size_t per[TS_N_SPLITS], counts[TS_N_SPLITS];
    ts_tune_list l = singles(3);
    assert_int_equal(ts_split_tunes(&l, 1, 0.01, 0.01, split, per), 3);
    count_splits(split, 3, counts);
    assert_int_equal(counts[TS_SPLIT_TRAIN], 1);
    assert_int_equal(counts[TS_SPLIT_VAL], 1);
    assert_int_equal(counts[TS_SPLIT_TEST], 1);
    check_group_sum(3, per);
    ts_tunes_free(&l);

    l = singles(5);
    assert_int_equal(ts_split_tunes(&l, 1, 0.01, 0.01, split, per), 5);
    count_splits(split, 5, counts);
    assert_int_equal(counts[TS_SPLIT_TRAIN], 3);
    assert_int_equal(counts[TS_SPLIT_VAL], 1);
    assert_int_equal(counts[TS_SPLIT_TEST], 1);
    ts_tunes_free(&l);

    /* Two groups: too few to hold anything back. */
    l = singles(2);
    assert_int_equal(ts_split_tunes(&l, 1, 0.01, 0.01, split, per), 2);
    count_splits(split, 2, counts);
    assert_int_equal(counts[TS_SPLIT_TRAIN], 2);
    assert_int_equal(per[TS_SPLIT_TRAIN], 2);
    ts_tunes_free(&l);

    /* A zero fraction means none, even with enough groups. */
    l = singles(10);
    assert_int_equal(ts_split_tunes(&l, 1, 0.01, 0.0, split, per), 10);
    count_splits(split, 10, counts);
    assert_int_equal(counts[TS_SPLIT_VAL], 1);
    assert_int_equal(counts[TS_SPLIT_TEST], 0);
    assert_int_equal(counts[TS_SPLIT_TRAIN], 9);
    ts_tunes_free(&l);

    /* Four tunes in three groups: val and test get one group each. */
    l = (ts_tune_list){0};
    push(&l, "a", 0);
    push(&l, "b", 1);
    push(&l, "a", 2);
    push(&l, "c", 3);
    assert_int_equal(ts_split_tunes(&l, 9, 0.01, 0.01, split, per), 3);
    assert_int_equal(per[TS_SPLIT_TRAIN], 1);
    assert_int_equal(per[TS_SPLIT_VAL], 1);
    assert_int_equal(per[TS_SPLIT_TEST], 1);
    assert_int_equal(split[0], split[2]);
    ts_tunes_free(&l);

    l = (ts_tune_list){0};
    per[0] = per[1] = per[2] = 99;
    assert_int_equal(ts_split_tunes(&l, 1, 0.1, 0.1, split, per), 0);
    assert_int_equal(per[0] + per[1] + per[2], 0);
}

/* The deal depends on the seed and on the order in which groups first appear, not on how the
 * keys sort: renaming every key so that their sort order reverses changes nothing. */
static void test_independent_of_key_names(void **state) {
    (void)state;
    ts_tune_list a = {0}, b = {0};
    for (uint32_t i = 0; i < 400; i++) {
        uint32_t g = (i * 7) % 200; /* every group twice, interleaved */
        char ka[32], kb[32];
        snprintf(ka, sizeof ka, "k%03u", g);
        snprintf(kb, sizeof kb, "k%03u", 999 - g);
        push(&a, ka, i);
        push(&b, kb, i);
    }
    uint8_t sa[400], sb[400];
    assert_int_equal(ts_split_tunes(&a, 5, 0.05, 0.05, sa, NULL), 200);
    assert_int_equal(ts_split_tunes(&b, 5, 0.05, 0.05, sb, NULL), 200);
    assert_memory_equal(sa, sb, sizeof sa);
    ts_tunes_free(&a);
    ts_tunes_free(&b);
}

/* ---- end to end on the bundled corpus ---- */

/* Each test that needs files gets a fresh mkdtemp folder as its state; the teardown removes it
 * even when the test fails. */
typedef struct {
    char split[8];
    char *group;
    char *source;
    unsigned index;
    unsigned long chars;
} tsv_row;

static int by_group(const void *a, const void *b) {
    return strcmp(((const tsv_row *)a)->group, ((const tsv_row *)b)->group);
}

static int by_source_index(const void *a, const void *b) {
    const tsv_row *x = a, *y = b;
    int c = strcmp(x->source, y->source);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

static char *slurp_in(const char *dir, const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return slurp(path, len);
}

static long file_size(const char *dir, const char *name) {
    size_t n;
    free(slurp_in(dir, name, &n));
    return (long)n;
}

static double num(const cJSON *j, const char *a, const char *b, const char *c) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c) v = cJSON_GetObjectItemCaseSensitive(v, c);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* Splits the TSV in place into rows; returns the count. */
static size_t parse_tsv(char *text, tsv_row **rows_out) {
    char *save_line;
    char *line = strtok_r(text, "\n", &save_line);
    assert_non_null(line);
    assert_string_equal(line, "split\tgroup\tsource\tindex\tchars");
    size_t n = 0, cap = 1024;
    tsv_row *rows = malloc(cap * sizeof *rows);
    assert_non_null(rows);
    while ((line = strtok_r(NULL, "\n", &save_line))) {
        if (n == cap) {
            rows = realloc(rows, (cap *= 2) * sizeof *rows);
            assert_non_null(rows);
        }
        char *f[5], *save;
        f[0] = strtok_r(line, "\t", &save);
        for (int k = 1; k < 5; k++)
            f[k] = strtok_r(NULL, "\t", &save);
        for (int k = 0; k < 5; k++)
            assert_non_null(f[k]);
        assert_null(strtok_r(NULL, "\t", &save));
        assert_true(strlen(f[0]) < sizeof rows[n].split);
        strcpy(rows[n].split, f[0]);
        rows[n].group = f[1];
        rows[n].source = f[2];
        rows[n].index = (unsigned)strtoul(f[3], NULL, 10);
        rows[n].chars = strtoul(f[4], NULL, 10);
        n++;
    }
    *rows_out = rows;
    return n;
}

static int split_of(const char *name) {
    for (int s = 0; s < TS_N_SPLITS; s++)
        if (!strcmp(name, ts_split_names[s])) return s;
    fail_msg("unknown split '%s' in splits.tsv", name);
    return -1;
}

static ts_status run_prepare(const char *corpus, const char *out, const char *cache, uint64_t seed,
                             int force, int *cached) {
    const char *inputs[1] = {corpus};
    ts_prepare_options o;
    ts_prepare_options_default(&o);
    o.inputs = inputs;
    o.n_inputs = 1;
    o.out_dir = out;
    o.cache_dir = cache;
    o.seed = seed;
    o.force = force;
    return ts_data_prepare(&o, cached);
}

static void test_corpus_end_to_end(void **state) {
    const char *corpus = getenv("TS_CORPUS");
    char fallback[4096];
    if (!corpus || !corpus[0]) {
        snprintf(fallback, sizeof fallback, "%s/bench/data", TS_SOURCE_DIR);
        corpus = fallback;
    }
    assert_true(ts_is_dir(corpus));
    const char *root = *state;
    char out[256], cache[256];
    snprintf(out, sizeof out, "%s/out", root);
    snprintf(cache, sizeof cache, "%s/cache", root);

    int cached = -1;
    assert_int_equal(run_prepare(corpus, out, cache, 42, 0, &cached), TS_OK);
    assert_int_equal(cached, 0);

    size_t json_len;
    char *json_text = slurp_in(out, "dataset.json", &json_len);
    cJSON *d = cJSON_Parse(json_text);
    assert_non_null(d);
    size_t kept = (size_t)num(d, "counts", "kept", NULL);
    assert_true(kept > 1000);

    char *tsv = slurp_in(out, "splits.tsv", NULL);
    tsv_row *rows;
    size_t n = parse_tsv(tsv, &rows);
    assert_int_equal(n, kept);

    /* Per split: tunes and characters from the TSV; distinct groups after sorting. */
    size_t tunes[TS_N_SPLITS] = {0}, groups[TS_N_SPLITS] = {0}, all_groups = 0;
    unsigned long chars[TS_N_SPLITS] = {0};
    for (size_t i = 0; i < n; i++) {
        int s = split_of(rows[i].split);
        tunes[s]++;
        chars[s] += rows[i].chars;
    }
    qsort(rows, n, sizeof *rows, by_group);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !strcmp(rows[i].group, rows[i - 1].group)) {
            if (strcmp(rows[i].split, rows[i - 1].split))
                fail_msg("group %s is in %s and %s", rows[i].group, rows[i - 1].split,
                         rows[i].split);
        } else {
            groups[split_of(rows[i].split)]++;
            all_groups++;
        }
    }
    qsort(rows, n, sizeof *rows, by_source_index);
    for (size_t i = 1; i < n; i++)
        if (!by_source_index(&rows[i - 1], &rows[i]))
            fail_msg("%s #%u is listed twice", rows[i].source, rows[i].index);

    assert_int_equal(tunes[0] + tunes[1] + tunes[2], kept);
    assert_int_equal(all_groups, (size_t)num(d, "counts", "groups", NULL));
    static const char *bins[TS_N_SPLITS] = {"train.bin", "val.bin", "test.bin"};
    double sum = 0;
    for (int s = 0; s < TS_N_SPLITS; s++) {
        const char *name = ts_split_names[s];
        double t = num(d, "splits", name, "tunes");
        sum += t;
        assert_int_equal(t, tunes[s]);
        assert_int_equal(num(d, "splits", name, "groups"), groups[s]);
        assert_int_equal(num(d, "splits", name, "characters"), chars[s]);
        double tokens = num(d, "splits", name, "tokens");
        assert_int_equal(tokens, chars[s] + 2 * tunes[s]); /* <SOS> and <EOS> per tune */
        long size = file_size(out, bins[s]);
        assert_int_equal(size % 2, 0);
        assert_int_equal(size / 2, tokens);
    }
    assert_int_equal(sum, kept);
    size_t want = (size_t)floor(0.01 * (double)kept);
    assert_true(tunes[TS_SPLIT_VAL] >= want && tunes[TS_SPLIT_VAL] > 0);
    assert_true(tunes[TS_SPLIT_TEST] >= want && tunes[TS_SPLIT_TEST] > 0);

    /* Nothing staged is left behind. */
    DIR *dir = opendir(out);
    assert_non_null(dir);
    int entries = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        assert_null(strstr(e->d_name, "staging"));
        assert_null(strstr(e->d_name, ".tmp"));
        if (!strcmp(e->d_name, ".tunescale-owned")) continue; /* the folder's marker */
        entries++;
    }
    closedir(dir);
    assert_int_equal(entries, 6);
    assert_true(ts_is_owned_dir(out));

    char key[65];
    assert_int_equal(ts_dataset_verify(out, key), TS_OK);
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(d, "cache_key");
    assert_true(cJSON_IsString(ck));
    assert_string_equal(key, ck->valuestring);

    /* Again: cached, and dataset.json is left byte for byte. */
    size_t train_len;
    char *train = slurp_in(out, "train.bin", &train_len);
    assert_int_equal(run_prepare(corpus, out, cache, 42, 0, &cached), TS_OK);
    assert_int_equal(cached, 1);
    size_t again_len;
    char *again = slurp_in(out, "dataset.json", &again_len);
    assert_int_equal(again_len, json_len);
    assert_memory_equal(again, json_text, json_len);
    free(again);

    /* Forced: rebuilt, with the same bytes. */
    assert_int_equal(run_prepare(corpus, out, cache, 42, 1, &cached), TS_OK);
    assert_int_equal(cached, 0);
    char *train2 = slurp_in(out, "train.bin", &again_len);
    assert_int_equal(again_len, train_len);
    assert_memory_equal(train2, train, train_len);
    free(train2);
    cJSON *d2 = cJSON_Parse(again = slurp_in(out, "dataset.json", NULL));
    free(again);
    assert_non_null(d2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(d2, "dataset_hash")->valuestring,
                        cJSON_GetObjectItemCaseSensitive(d, "dataset_hash")->valuestring);
    cJSON_Delete(d2);

    /* A damaged artefact is not reused. */
    char path[512];
    snprintf(path, sizeof path, "%s/val.bin", out);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fputc(0x7f, f);
    fclose(f);
    assert_int_equal(ts_dataset_verify(out, NULL), TS_ERR);
    assert_int_equal(run_prepare(corpus, out, cache, 42, 0, &cached), TS_OK);
    assert_int_equal(cached, 0);
    assert_int_equal(ts_dataset_verify(out, NULL), TS_OK);

    /* Another seed is another dataset: not cached, and another split. */
    assert_int_equal(run_prepare(corpus, out, cache, 7, 0, &cached), TS_OK);
    assert_int_equal(cached, 0);
    train2 = slurp_in(out, "train.bin", &again_len);
    assert_true(again_len != train_len || memcmp(train2, train, train_len) != 0);
    free(train2);

    free(train);
    free(rows);
    free(tsv);
    free(json_text);
    cJSON_Delete(d);
}

/* The cache key covers the inputs' content: an edited input is a new dataset, even with the same
 * size and the same options; restoring the old content is the old dataset again. */
static void test_cache_follows_input(void **state) {
    const char *root = *state;
    char in[256], out[256], cache[256], path[512];
    snprintf(in, sizeof in, "%s/in", root);
    snprintf(out, sizeof out, "%s/out", root);
    snprintf(cache, sizeof cache, "%s/cache", root);
    assert_int_equal(ts_mkdir_p(in), TS_OK);
    snprintf(path, sizeof path, "%s/t.abc", in);
    const char *v1 = "X:1\nT:One\nK:G\nGABc dedB|dBAG FGAB|GABc dedB|dBAG FGAB|\n";
    const char *v2 = "X:1\nT:One\nK:G\nGABc dedB|dBAG FGAB|GABc dedB|dBAG FGAc|\n";
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(v1, f);
    fclose(f);
    int cached = -1;
    assert_int_equal(run_prepare(in, out, cache, 42, 0, &cached), TS_OK);
    assert_int_equal(cached, 0);
    assert_int_equal(run_prepare(in, out, cache, 42, 0, &cached), TS_OK);
    assert_int_equal(cached, 1);
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs(v2, f);
    fclose(f);
    assert_int_equal(run_prepare(in, out, cache, 42, 0, &cached), TS_OK);
    assert_int_equal(cached, 0);
    size_t len;
    char *train = slurp_in(out, "train.bin", &len);
    assert_int_equal(len, 2 * (strlen(v2) - 1 + 2)); /* the tune, its <SOS> and <EOS> */
    /* The tune ends "...FGAc|": 'c' has id 4 + 12 (\n space 1 : A B F G K O T X sort before it). */
    assert_int_equal((unsigned char)train[len - 6], 16);
    assert_int_equal((unsigned char)train[len - 5], 0);
    free(train);
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs(v1, f);
    fclose(f);
    assert_int_equal(run_prepare(in, out, cache, 42, 0, &cached), TS_OK);
    assert_int_equal(cached, 0);
}

/* Regression: 300 settings of one tune plus two single tunes. The big group must train; val and
 * test get one small group each, for every seed. */
static void test_large_group_trains(void **state) {
    (void)state;
    ts_tune_list l = {0};
    for (uint32_t i = 0; i < 300; i++)
        push(&l, "id:big", i);
    push(&l, "id:a", 300);
    push(&l, "id:b", 301);
    uint8_t *split = malloc(l.n);
    for (uint64_t seed = 0; seed < 50; seed++) {
        size_t per[TS_N_SPLITS];
        assert_int_equal(ts_split_tunes(&l, seed, 0.01, 0.01, split, per), 3);
        assert_int_equal(per[TS_SPLIT_TRAIN], 1);
        assert_int_equal(per[TS_SPLIT_VAL], 1);
        assert_int_equal(per[TS_SPLIT_TEST], 1);
        for (size_t i = 0; i < 300; i++)
            assert_int_equal(split[i], TS_SPLIT_TRAIN);
    }
    free(split);
    ts_tunes_free(&l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_names),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_sizes_exact),
        cmocka_unit_test(test_groups_disjoint),
        cmocka_unit_test(test_minimum_one_each),
        cmocka_unit_test(test_large_group_trains),
        cmocka_unit_test(test_independent_of_key_names),
        cmocka_unit_test_setup_teardown(test_corpus_end_to_end, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_cache_follows_input, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
