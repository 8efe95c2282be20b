/* test_abc.c — the ABC parser, checker and MIDI renderer against hand-worked expectations:
 * note lengths (plain, broken rhythm, tuplets, chords), pitches (key signature, bar-scoped
 * accidentals, ties across the bar), repeat expansion order, P: parts order, abc2midi's
 * quirks (broken rhythm, hornpipes, repeats after a replay), and line:column of errors. */
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

/* Plays `body` under `header` and compares the pitch letters in playing order. */
static void expect_letters(const char *header, const char *body, const char *want) {
    size_t n;
    char got[512];
    abc_midi_note *v = play(header, body, &n);
    assert_true(n < sizeof got);
    letters(v, n, got);
    if (strcmp(got, want)) fail_msg("'%s': got %s, want %s", body, got, want);
    free(v);
}

static void test_parts_expansion(void **state) {
    (void)state;
    struct {
        const char *p, *want;
    } cases[] = {
        {"AABB", "AABB"},
        {"A2B", "AAB"},
        {"(AB)2C", "ABABC"},
        {"A.B.A", "ABA"},
        {"A3(BA)2", "AAABABA"},
        {"((AB)2C)2", "ABABCABABC"},
        {"a b", ""},
        {"(AB", "AB"},
        {"AB)C", "ABC"},
        {"B0A", "A"},
        {"", ""},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char out[ABC_MAX_PARTS + 1];
        int n = abc_expand_parts(cases[k].p, strlen(cases[k].p), out, ABC_MAX_PARTS);
        out[n] = '\0';
        if (strcmp(out, cases[k].want))
            fail_msg("P:%s: got %s, want %s", cases[k].p, out, cases[k].want);
    }
    /* the output is capped, also for nested counts */
    char out[8];
    assert_int_equal(abc_expand_parts("(A9)9", 5, out, 8), 8);
    assert_int_equal(abc_expand_parts("((((((((((A9)9)9)9)9)9)9)9)9)9)", 31, out, 8), 8);
}

static void test_parts_playing_order(void **state) {
    (void)state;
    /* header P: order; body P: lines label the parts; each part plays its own repeats */
    expect_letters("P:ABACA\nM:2/4\nL:1/4\nK:C", "P:A\nC D|:E F:|\nP:B\nG A|\nP:C\nB c|",
                   "CDEFEFGACDEFEFBCCDEFEF");
    /* music before the first label plays once first; a count repeats a part */
    expect_letters("P:A2B\nM:2/4\nL:1/4\nK:C", "C C|\nP:A\nD E|\nP:B\nF G|", "CCDEDEFG");
    /* groups, dots, labels named by their first letter, parts never labelled skipped */
    expect_letters("P:(AB)2.D\nM:2/4\nL:1/4\nK:C", "P:A1\nC D|\n[P:Bx]E F|", "CDEFCDEF");
    /* a ":|" in a part goes back to the part's start, not the tune's */
    expect_letters("P:AB\nM:2/4\nL:1/4\nK:C", "P:A\nC D|\nP:B\nE F:|", "CDEFEF");
    /* a part labelled twice plays its last labelled music */
    expect_letters("P:AB\nM:2/4\nL:1/4\nK:C", "P:A\nC D|\nP:B\nE F|\nP:A\nG A|", "GAEF");
    /* a tie reaches into the next part */
    size_t n;
    abc_midi_note *v = play("P:AB\nM:2/4\nL:1/4\nK:C", "P:A\nC D-|\nP:B\nD E|", &n);
    assert_int_equal(n, 3);
    expect(v, 1, 62, 480, 960);
    free(v);
    /* without a header P: the labels are ignored and the body plays as written */
    expect_letters("M:2/4\nL:1/4\nK:C", "P:A\nC D|\nP:B\nE F:|", "CDEFCDEF");
    /* with a header P: but no labels, likewise */
    expect_letters("P:AAB\nM:2/4\nL:1/4\nK:C", "C D:|", "CDCD");
}

static void test_abc2midi_quirks(void **state) {
    (void)state;
    /* a music line without bar lines after a body P: label is music, not run-on text */
    expect_letters("M:2/4\nL:1/4\nK:C", "P:A\nC D\nE F|", "CDEF");
    /* a trailing comment with words does not make a music line prose */
    expect_letters("M:2/4\nL:1/4\nK:C", "P:Ground\nC D E F| % hiove cheve", "CDEF");
    /* after abc2midi's replay of a section (":|" after its last ending, no "|:"), later
     * ":|" without "|:" do not repeat and endings not naming the pass are skipped */
    expect_letters("M:1/8\nL:1/8\nK:C", "E|[1F:|[2G||A|B:|c|d:|", "EFEGABEABCD");
    expect_letters("M:1/8\nL:1/8\nK:C", "E|[1F:|[2G||A|B:|c|[1d:|[2e|]", "EFEGABEABC");
    expect_letters("M:1/8\nL:1/8\nK:C", "E|[1F:|[2G||A|B:||:c|d:|e|[1f:|[2g|]", "EFEGABEABCDCDEG");
    /* likewise once a later ending has played: the pass count stays after a ":|" */
    expect_letters("M:1/8\nL:1/8\nK:C", "|:C|[1D:|[2E|]|:F|G:|A|B:|", "CDCEFGFGAB");
    size_t n;
    /* broken rhythm between single notes of different lengths does nothing; with a chord it
     * applies */
    abc_midi_note *v = play(HDR, "A>B/ A<B2 A>[Bd]/ z>A/|", &n);
    assert_int_equal(n, 8);
    expect(v, 0, 69, 0, 240);
    expect(v, 1, 71, 240, 120);
    expect(v, 2, 69, 360, 240);
    expect(v, 3, 71, 600, 480);
    expect(v, 4, 69, 1080, 360);
    expect(v, 5, 71, 1440, 60);
    expect(v, 7, 69, 1740, 120); /* after the unchanged rest */
    free(v);
    /* hornpipe, not 4/4: a single '>' or '<' is 2:1; '>>' as usual */
    v = play("M:2/4\nL:1/8\nR:hornpipe\nK:C", "A>B A<B|A>>B z2|", &n);
    assert_int_equal(n, 6);
    int64_t lens[6] = {320, 160, 160, 320, 420, 60};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(v[i].off - v[i].on, lens[i]);
    free(v);
    /* hornpipe in 4/4: eighths on a beat swing 2:1 whatever their broken rhythm; the other
     * note of a broken pair cut by the swing plays as written; an unswung pair is 2:1 */
    const char *hp = "X:1\nT:t\nM:4/4\nL:1/8\nR:hornpipe\nK:C\nC E>F G<A B2 c|C3 E<F G3|\n";
    abc_tune t;
    assert_int_equal(abc_parse_tune(hp, strlen(hp), &t), 0);
    abc_hornpipe_swing(&t);
    int64_t end;
    int oom;
    v = abc_render(&t, &n, &end, &oom);
    abc_tune_free(&t);
    assert_int_equal(n, 11);
    int64_t lens2[11] = {320, 160, 320, 160, 240, 480, 240, 720, 160, 320, 720};
    for (size_t i = 0; i < 11; i++)
        if (v[i].off - v[i].on != lens2[i])
            fail_msg("note %zu: %lld ticks, want %lld", i, (long long)(v[i].off - v[i].on),
                     (long long)lens2[i]);
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
    /* Exactly the notebook's substring test: a body starting with a repeat sign "|:" counts (it
     * once did not), and a title's capitals count as notes. */
    const char *repeat = "X:1\nT:reel\nM:4/4\nK:D\n|:d2fd A2FA|\n";
    assert_int_equal(ts_abc_loose_valid(repeat, strlen(repeat)), 1);
    assert_int_equal(ts_abc_loose_valid("T:Cat\nK:\n", 10), 1);
    assert_int_equal(ts_abc_loose_valid("X:1\nK:\nxyz\n", 12), 0);
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
        cmocka_unit_test(test_parts_expansion),
        cmocka_unit_test(test_parts_playing_order),
        cmocka_unit_test(test_abc2midi_quirks),
        cmocka_unit_test(test_error_positions),
        cmocka_unit_test(test_verdicts_and_bars),
        cmocka_unit_test_setup_teardown(test_midi_file, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
