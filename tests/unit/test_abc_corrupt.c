/* test_abc_corrupt.c — 1,000 seeded corruptions of corpus tunes through the checker and the MIDI
 * converter: nothing may crash (run it under ASan to see reads out of bounds), and corruptions
 * that break the structure on purpose (a bad K: value, a chord left open at the end) must be
 * flagged invalid. Prints the share of all corruptions the checker calls invalid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "abc/abc.h"
#include "abc/abc_internal.h"
#include "test_util.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { /* xorshift64*: fixed seed, same corruptions every run */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* Tunes of one corpus file, split at "X:" lines. */
static size_t load_tunes(const char *path, char ***out) {
    char *data;
    size_t len, n = 0, cap = 4096;
    if (ts_read_file(path, &data, &len) != TS_OK) return 0;
    char **v = malloc(cap * sizeof *v);
    size_t start = (size_t)-1;
    for (size_t i = 0; i <= len; i++) {
        int at_x =
            i + 1 < len && (i == 0 || data[i - 1] == '\n') && data[i] == 'X' && data[i + 1] == ':';
        if ((at_x || i == len) && start != (size_t)-1 && n < cap) {
            v[n] = malloc(i - start + 1);
            memcpy(v[n], data + start, i - start);
            v[n][i - start] = '\0';
            n++;
        }
        if (at_x) start = i;
    }
    free(data);
    *out = v;
    return n;
}

enum { DELETE, DUPLICATE, SWAP, RANDOM_BYTE, BREAK_BRACKET, BAD_KEY, OPEN_CHORD, N_KINDS };

/* Returns a corrupted malloc'd copy; *deliberate = 1 when it must be invalid. */
static char *corrupt(const char *src, int kind, size_t *len, int *deliberate) {
    size_t n = strlen(src);
    char *s = malloc(n + 64);
    memcpy(s, src, n + 1);
    *deliberate = 0;
    size_t at = n ? rnd() % n : 0;
    switch (kind) {
    case DELETE:
        for (int k = 0; k < 3 && n > 1; k++, at = rnd() % n)
            memmove(s + at, s + at + 1, n-- - at);
        break;
    case DUPLICATE:
        memmove(s + at + 1, s + at, n - at + 1);
        n++;
        break;
    case SWAP:
        if (at + 1 < n) {
            char c = s[at];
            s[at] = s[at + 1], s[at + 1] = c;
        }
        break;
    case RANDOM_BYTE:
        s[at] = (char)(rnd() & 0xFF); /* NUL and non-UTF-8 included */
        break;
    case BREAK_BRACKET: {
        static const char brk[] = "[]{}()\"!|:";
        s[at] = brk[rnd() % (sizeof brk - 1)];
        break;
    }
    case BAD_KEY: {
        char *k = strstr(s, "\nK:");
        if (!k) break;
        static const char *bad[] = {"Hx", "Zmaj", "#", "1", "cmaj", "Q"};
        const char *b = bad[rnd() % 6];
        char *e = strchr(k + 1, '\n');
        size_t tail = e ? strlen(e) : 0;
        memmove(k + 3 + strlen(b), e ? e : k + 3, tail + 1);
        memcpy(k + 3, b, strlen(b));
        n = strlen(s);
        *deliberate = 1;
        break;
    }
    case OPEN_CHORD:
        while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
            s[--n] = '\0';
        memcpy(s + n, " [CE", 5);
        n += 4;
        *deliberate = 1;
        break;
    }
    *len = n;
    return s;
}

static void test_corruptions(void **state) {
    const char *corpus = getenv("TS_CORPUS");
    if (!corpus) corpus = TS_SOURCE_DIR "/bench/data";
    char path[4096];
    snprintf(path, sizeof path, "%s/nottingham_jukedeck.abc", corpus);
    char **a, **b;
    size_t na = load_tunes(path, &a);
    snprintf(path, sizeof path, "%s/cre_breathnach_billblack.abc", corpus);
    size_t nb = load_tunes(path, &b);
    assert_true(na > 100 && nb > 100);
    int invalid = 0, deliberate_total = 0, deliberate_caught = 0, converted = 0;
    int per_kind[N_KINDS] = {0}, per_kind_invalid[N_KINDS] = {0};
    for (int i = 0; i < 1000; i++) {
        const char *src = i % 2 ? a[rnd() % na] : b[rnd() % nb];
        int kind = (int)(rnd() % N_KINDS), deliberate;
        size_t len;
        char *s = corrupt(src, kind, &len, &deliberate);
        ts_abc_result r;
        assert_int_equal(ts_abc_check(s, len, &r), 0);
        per_kind[kind]++;
        if (r.verdict == TS_ABC_INVALID) invalid++, per_kind_invalid[kind]++;
        if (deliberate) {
            deliberate_total++;
            deliberate_caught += r.verdict == TS_ABC_INVALID;
            if (r.verdict != TS_ABC_INVALID) fail_msg("kind %d not flagged:\n%s", kind, s);
        }
        ts_abc_result_free(&r);
        /* the converter: in memory for all, through a file for every 20th */
        abc_tune t;
        assert_int_equal(abc_parse_tune(s, len, &t), 0);
        size_t nn, bytes;
        int64_t end;
        int oom;
        abc_midi_note *notes = abc_render(&t, &nn, &end, &oom);
        if (notes) {
            unsigned char *smf = abc_smf_build(&t, notes, nn, end, &bytes);
            assert_non_null(smf);
            free(smf);
            converted++;
        }
        free(notes);
        abc_tune_free(&t);
        if (i % 20 == 0) {
            char out[4096], err[256];
            snprintf(out, sizeof out, "%s/c.mid", (char *)*state);
            ts_abc_to_midi_file(s, len, out, err, sizeof err);
        }
        free(s);
    }
    static const char *names[N_KINDS] = {
        "delete 3 chars", "duplicate a char", "swap 2 chars",     "random byte",
        "bracket/quote",  "bad K:",           "open chord at end"};
    printf("corruptions 1000: invalid %d (%.1f%%), converted to MIDI %d; deliberate structure "
           "breaks caught %d/%d\n",
           invalid, invalid / 10.0, converted, deliberate_caught, deliberate_total);
    for (int k = 0; k < N_KINDS; k++)
        printf("  %-18s %4d, invalid %4d\n", names[k], per_kind[k], per_kind_invalid[k]);
    assert_int_equal(deliberate_caught, deliberate_total);
    for (size_t i = 0; i < na; i++)
        free(a[i]);
    for (size_t i = 0; i < nb; i++)
        free(b[i]);
    free(a);
    free(b);
}

/* Arbitrary bytes: every prefix of a mixed buffer, and random buffers. */
static void test_random_bytes(void **state) {
    (void)state;
    for (int i = 0; i < 2000; i++) {
        size_t len = rnd() % 300;
        char *s = malloc(len ? len : 1);
        for (size_t k = 0; k < len; k++) {
            static const char abc[] = "X:1\nK:C\nABCabc^_=[]{}()|:12/<>-~.\"!+%\\ z,'";
            s[k] = rnd() % 4 ? abc[rnd() % (sizeof abc - 1)] : (char)(rnd() & 0xFF);
        }
        ts_abc_result r;
        assert_int_equal(ts_abc_check(s, len, &r), 0);
        ts_abc_result_free(&r);
        abc_tune t;
        assert_int_equal(abc_parse_tune(s, len, &t), 0);
        size_t nn;
        int64_t end;
        int oom;
        free(abc_render(&t, &nn, &end, &oom));
        abc_tune_free(&t);
        ts_abc_loose_valid(s, len);
        free(s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_corruptions, tmp_setup, tmp_teardown),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
