/* test_abc.c — the ABC parser, checker and MIDI renderer against hand-worked expectations:
 * note lengths (plain, broken rhythm, tuplets, chords), pitches (key signature, bar-scoped
 * accidentals, ties across the bar), repeat expansion order, and line:column of errors. */
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

/* Renders a body under a fixed header; returns the notes. */
static abc_midi_note *play(const char *header, const char *body, size_t *n) {
    char text[2048];
    snprintf(text, sizeof text, "X:1\nT:t\n%s\n%s\n", header, body);
    abc_tune t;
    assert_int_equal(abc_parse_tune(text, strlen(text), &t), 0);
    int64_t end;
    int oom;
    abc_midi_note *v = abc_render(&t, n, &end, &oom);
    abc_tune_free(&t);
    return v;
}

#define HDR "M:4/4\nL:1/8\nK:C"

static void expect(const abc_midi_note *v, size_t i, int pitch, int64_t on, int64_t len) {
    assert_int_equal(v[i].pitch, pitch);
    assert_int_equal(v[i].on, on);
    assert_int_equal(v[i].off - v[i].on, len);
}

static void test_lengths(void **state) {
    (void)state;
    size_t n;
    /* L:1/8 = 240 ticks: A2 480, A/2 120, A/ 120, A3/2 360, A// 60, A 240 */
    abc_midi_note *v = play(HDR, "A2 A/2 A/ A3/2 A// A|", &n);
    assert_int_equal(n, 6);
    int64_t lens[6] = {480, 120, 120, 360, 60, 240}, on = 0;
    for (size_t i = 0; i < 6; i++) {
        expect(v, i, 69, on, lens[i]);
        on += lens[i];
    }
    free(v);
}

static void test_broken_rhythm_and_tuplets(void **state) {
    (void)state;
    size_t n;
    /* A>B: 360+120; A<B: 120+360; A>>B: 420+60; (3ABc: 160 each; (3:2:4 four notes of 160 */
    abc_midi_note *v = play(HDR, "A>B A<B A>>B (3ABc|(3:2:4ABcd z2 A2|", &n);
    assert_int_equal(n, 14);
    int64_t lens[14] = {360, 120, 120, 360, 420, 60, 160, 160, 160, 160, 160, 160, 160, 480};
    int64_t on = 0;
    for (size_t i = 0; i < 14; i++) {
        assert_int_equal(v[i].on, on);
        assert_int_equal(v[i].off - v[i].on, lens[i]);
        on += lens[i];
        if (i == 12) on += 480; /* z2 */
    }
    free(v);
    /* 6/8: (2AB is two in the time of three eighths */
    v = play("M:6/8\nL:1/8\nK:C", "(2AB c3|", &n);
    assert_int_equal(n, 3);
    expect(v, 0, 69, 0, 360);
    expect(v, 1, 71, 360, 360);
    free(v);
}

static void test_chords(void **state) {
    (void)state;
    size_t n;
    /* a chord sounds for its first note's length times the chord's length */
    abc_midi_note *v = play(HDR, "[CEG]2 [c2e]/ A|", &n);
    assert_int_equal(n, 6);
    expect(v, 0, 60, 0, 480);
    expect(v, 1, 64, 0, 480);
    expect(v, 2, 67, 0, 480);
    expect(v, 3, 72, 480, 240);
    expect(v, 4, 76, 480, 240);
    expect(v, 5, 69, 720, 240);
    free(v);
}

static void test_pitches(void **state) {
    (void)state;
    size_t n;
    /* K:D sharpens F and C; =F cancels for the rest of the bar (every octave, as abc2midi);
     * the next bar is back to the key; ^^ and __ are double */
    abc_midi_note *v = play("M:4/4\nL:1/8\nK:D", "F c =F f F,|F ^^G __B C,, c'|", &n);
    assert_int_equal(n, 10);
    int want[10] = {66, 73, 65, 77, 53, 66, 69, 69, 37, 85}; /* C,, is C# in D */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i].pitch, want[i]);
    free(v);
    /* a tie carries the accidental over the bar line to the tied note only */
    v = play(HDR, "^F4- F4|F4 z4|", &n);
    assert_int_equal(n, 2);
    expect(v, 0, 66, 0, 1920);
    expect(v, 1, 65, 1920, 960);
    free(v);
    /* modes and explicit key accidentals */
    v = play("M:4/4\nL:1/8\nK:A dorian", "F C B|", &n); /* A dorian = G major: F# */
    assert_int_equal(v[0].pitch, 66);
    assert_int_equal(v[1].pitch, 60);
    free(v);
    v = play("M:4/4\nL:1/8\nK:D =c ^g", "c g f|", &n);
    assert_int_equal(v[0].pitch, 72);
    assert_int_equal(v[1].pitch, 80);
    assert_int_equal(v[2].pitch, 78);
    free(v);
}

/* Pitch classes of the notes as letters, to read repeat orders easily. */
static void letters(const abc_midi_note *v, size_t n, char *out) {
    for (size_t i = 0; i < n; i++)
        out[i] = "C?D?EF?G?A?B"[v[i].pitch % 12];
    out[n] = '\0';
}

static void test_repeats(void **state) {
    (void)state;
    size_t n;
    char got[256];
    struct {
        const char *body, *want;
    } cases[] = {
        {"C D | E F :| G A |]", "CDEFCDEFGA"},
        {"|: C D :|: E F :| G |]", "CDCDEFEFG"},
        {"|: C D |1 E :|2 F |]", "CDECDF"},
        {"|: C |1,2 D :|3 E |]", "CDCDCE"},
        {"C D [1 E :| [2 F |]", "CDECDF"},
        {"C D :: E F :|", "CDCDEFEF"},
        {"C :| D :| E", "CCDDE"},
        /* abc2midi: a ":|" after the last ending, without "|:", replays the section with no
         * endings, then the new part */
        {"|: C D |1 E :| [2 F || G A :|", "CDECDFGACDGA"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        abc_midi_note *v = play("M:2/4\nL:1/4\nK:C", cases[k].body, &n);
        letters(v, n, got);
        if (strcmp(got, cases[k].want))
            fail_msg("'%s': got %s, want %s", cases[k].body, got, cases[k].want);
        free(v);
    }
}

static void test_ties_and_ornaments(void **state) {
    (void)state;
    size_t n;
    /* ties join same-pitch notes, also across a bar line; a tie to another pitch does not */
    abc_midi_note *v = play(HDR, "A2-A2 B-|B c-d|", &n);
    assert_int_equal(n, 4);
    expect(v, 0, 69, 0, 960);
    expect(v, 1, 71, 960, 480);
    expect(v, 2, 72, 1440, 240);
    expect(v, 3, 74, 1680, 240);
    free(v);
    /* staccato halves; T alternates upper/main in 60-tick notes; ~ takes L/4 for the upper */
    v = play(HDR, ".A2 TA ~A2|", &n);
    assert_int_equal(n, 1 + 4 + 2);
    expect(v, 0, 69, 0, 240);
    expect(v, 1, 71, 480, 60);
    expect(v, 2, 69, 540, 60);
    expect(v, 5, 71, 720, 60);
    expect(v, 6, 69, 780, 420);
    free(v);
}

static ts_abc_result check(const char *text) {
    ts_abc_result r;
    assert_int_equal(ts_abc_check(text, strlen(text), &r), 0);
    return r;
}

static void expect_error(const char *text, int line, int col, const char *needle) {
    ts_abc_result r = check(text);
    assert_int_equal(r.verdict, TS_ABC_INVALID);
    int found = 0;
    for (int i = 0; i < r.n_diags; i++)
        if (r.diags[i].is_error && r.diags[i].line == line && r.diags[i].column == col &&
            strstr(r.diags[i].message, needle))
            found = 1;
    if (!found) {
        for (int i = 0; i < r.n_diags; i++)
            print_message("  %d:%d %s\n", r.diags[i].line, r.diags[i].column, r.diags[i].message);
        fail_msg("no error '%s' at %d:%d", needle, line, col);
    }
    ts_abc_result_free(&r);
}

static void test_error_positions(void **state) {
    (void)state;
    expect_error("X:1\nT:t\nM:4/4\nL:1/8\nK:G\nABcd [CEG efg|\n", 6, 6, "unclosed chord");
    expect_error("X:1\nT:t\nM:4/4\nL:1/8\nK:Hx\nABcd|\n", 5, 1, "bad K:");
    expect_error("X:1\nT:t\nM:4/4\nL:1/8\nABcd|\n", 5, 1, "before the K:");
    expect_error("X:1\nT:t\nM:4/4\nL:1/8\nK:C\nAB ^ cd|\n", 6, 4, "accidental");
    expect_error("X:1\nT:t\nM:4/4\nL:1/8\nK:C\nAB {ga cd|\n", 6, 4, "unclosed grace");
    expect_error("X:1\nT:t\nM:4/4\nL:1/8\nK:C\nAB \"Am cd|\n", 6, 4, "unclosed chord symbol");
    expect_error("X:1\nT:t\nM:4/4\nL:1/8\nK:C\nABcd|\nAB (3cd\n", 7, 4, "tuplet (3");
    expect_error("X:1\nT:t\nM:4/4\nL:1/8\nK:C\nABcd ef#g|\n", 6, 8, "unexpected character");
    expect_error("X:1\nT:t\nK:C\nAB ] cd|\n", 4, 4, "']' without");
    /* UTF-8 counts as one column per character */
    expect_error("X:1\nT:t\nK:C\n\"é\"AB ] cd|\n", 4, 7, "']' without");
}

static void test_verdicts_and_bars(void **state) {
    (void)state;
    ts_abc_result r = check("X:1\nT:Tune\nM:4/4\nL:1/8\nK:G\nG2|ABcd efga|b8|ABcd e4-|e6|]\n");
    assert_int_equal(r.verdict, TS_ABC_VALID);
    assert_string_equal(r.title, "Tune");
    /* pickup G2 allowed; b8 fine; last bar e6 short but last */
    assert_int_equal(r.bars_total, 5);
    assert_int_equal(r.bars_consistent, 5);
    ts_abc_result_free(&r);
    r = check("X:1\nT:t\nM:3/4\nL:1/8\nK:G\nABcdef|ABcd|ABcdef|ABcdef|\n");
    assert_int_equal(r.verdict, TS_ABC_WARNINGS);
    assert_int_equal(r.bars_total, 4);
    assert_int_equal(r.bars_consistent, 3);
    ts_abc_result_free(&r);
    /* no L: and an unusual decoration are warnings, not errors */
    r = check("X:1\nT:t\nM:6/8\nK:Ador\n!wobble!ABc d3|\n");
    assert_int_equal(r.verdict, TS_ABC_WARNINGS);
    assert_int_equal(r.n_errors, 0);
    ts_abc_result_free(&r);
    /* the checker reads only the first tune */
    r = check("X:1\nT:one\nL:1/8\nK:C\nCDEF|\n\nX:2\nT:two\nK:C\nCD[EF|\n");
    assert_int_equal(r.verdict, TS_ABC_VALID);
    ts_abc_result_free(&r);
    assert_int_equal(ts_abc_loose_valid("X:1\nK:C\nabc\n", 12), 1);
    assert_int_equal(ts_abc_loose_valid("X:1\nabc\n", 8), 0);
}

static int contains(const char *hay, size_t n, const char *needle, size_t m) {
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m)) return 1;
    return 0;
}

static void test_midi_file(void **state) {
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/t.mid", (char *)*state);
    const char *tune = "X:1\nT:t\nM:6/8\nL:1/8\nQ:3/8=80\nK:G\nGAB c2d|\n";
    assert_int_equal(ts_abc_to_midi_file(tune, strlen(tune), path, err, sizeof err), 0);
    char *data;
    size_t len;
    assert_int_equal(ts_read_file(path, &data, &len), TS_OK);
    assert_true(len > 14);
    assert_memory_equal(data, "MThd\0\0\0\6\0\1\0\2\1\xE0", 14); /* format 1, 2 tracks, 480 */
    /* tempo 3/8 = 80: 80 dotted quarters a minute = 500000 us per quarter */
    assert_true(contains(data, len, "\xFF\x51\x03\x07\xA1\x20", 6));
    free(data);
    const char *nokey = "X:1\nT:t\nABC\n";
    assert_int_equal(ts_abc_to_midi_file(nokey, strlen(nokey), path, err, sizeof err), -1);
    assert_non_null(strstr(err, "K:"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_broken_rhythm_and_tuplets),
        cmocka_unit_test(test_chords),
        cmocka_unit_test(test_pitches),
        cmocka_unit_test(test_repeats),
        cmocka_unit_test(test_ties_and_ornaments),
        cmocka_unit_test(test_error_positions),
        cmocka_unit_test(test_verdicts_and_bars),
        cmocka_unit_test_setup_teardown(test_midi_file, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
