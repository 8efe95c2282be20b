/*
 * test_ingest.c — unit tests for reading tunes (src/data/ingest*.c, src/data/text.c).
 *
 * ABC splitting, group keys, byte decoding (BOM, Latin-1, binary, UTF-16), The Session's
 * JSON and CSV record formats, folders and archives. Every input is written here, in memory
 * or in a mkdtemp folder, and every expected tune text is spelled out by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "data/ingest.h"
#include "data/text.h"
#include "data/tunes.h"
#include "util/fsutil.h"

/* ---- helpers ---- */

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text) {
    write_bytes(path, text, strlen(text));
}

/* Each test that needs files gets a fresh mkdtemp folder as its state; the teardown removes it
 * even when the test fails. */
static void join(char *out, size_t cap, const char *dir, const char *name) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < cap);
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Runs a shell command; skips the test when the tool it needs is not installed. */
static void run_or_skip(const char *cmd) {
    int rc = system(cmd);
    if (rc == -1 || (WIFEXITED(rc) && WEXITSTATUS(rc) == 127)) skip();
    assert_true(WIFEXITED(rc));
    assert_int_equal(WEXITSTATUS(rc), 0);
}

static ts_tune_list abc(const char *text, const char *source, uint32_t want) {
    ts_tune_list l = {0};
    uint32_t added = 99;
    assert_int_equal(ts_ingest_abc(text, strlen(text), source, &l, &added), TS_OK);
    assert_int_equal(added, want);
    assert_int_equal(l.n, want);
    return l;
}

/* ---- ABC splitting ---- */

static void test_abc_several_tunes(void **state) {
    (void)state;
    const char *text = "X:1\nT:First\nK:G\nabc|\n"
                       "\n"
                       "X:2\nT:Second\nK:D\ndef|\n"
                       "\n\n"
                       "X:3\nT:Third\nK:A\nABC|\n";
    ts_tune_list l = abc(text, "book.abc", 3);
    assert_string_equal(l.v[0].text, "X:1\nT:First\nK:G\nabc|");
    assert_string_equal(l.v[1].text, "X:2\nT:Second\nK:D\ndef|");
    assert_string_equal(l.v[2].text, "X:3\nT:Third\nK:A\nABC|");
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(l.v[i].index, i);
        assert_string_equal(l.v[i].source, "book.abc");
    }
    assert_string_equal(l.v[0].group, "title:first");
    assert_string_equal(l.v[1].group, "title:second");
    assert_string_equal(l.v[2].group, "title:third");
    ts_tunes_free(&l);
}

/* An X: line starts a new tune even without a blank line before it; appending to a list that
 * already holds tunes keeps them. */
static void test_abc_x_line_starts_tune(void **state) {
    (void)state;
    ts_tune_list l = {0};
    uint32_t added;
    const char *one = "X:9\nK:C\nc|\n";
    assert_int_equal(ts_ingest_abc(one, strlen(one), "one.abc", &l, &added), TS_OK);
    assert_int_equal(added, 1);
    const char *two = "X:1\nK:G\nab\nX:2\nK:D\ncd\n";
    assert_int_equal(ts_ingest_abc(two, strlen(two), "two.abc", &l, &added), TS_OK);
    assert_int_equal(added, 2);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].text, "X:9\nK:C\nc|");
    assert_string_equal(l.v[1].text, "X:1\nK:G\nab");
    assert_string_equal(l.v[2].text, "X:2\nK:D\ncd");
    assert_int_equal(l.v[1].index, 0); /* indices count within a source */
    assert_int_equal(l.v[2].index, 1);
    assert_string_equal(l.v[2].source, "two.abc");
    ts_tunes_free(&l);
}

static void test_abc_crlf(void **state) {
    (void)state;
    const char *text = "X:1\r\nT:A\r\nK:G\r\nabc\r\n"
                       "\r\n"
                       "X:2\r\nT:B\r\nK:D\r\ndef\r\n";
    ts_tune_list l = abc(text, "crlf.abc", 2);
    assert_string_equal(l.v[0].text, "X:1\r\nT:A\r\nK:G\r\nabc");
    assert_string_equal(l.v[1].text, "X:2\r\nT:B\r\nK:D\r\ndef");
    assert_string_equal(l.v[0].group, "title:a"); /* no '\r' in the key */
    assert_string_equal(l.v[1].group, "title:b");
    ts_tunes_free(&l);
}

static void test_abc_whitespace_line_ends_tune(void **state) {
    (void)state;
    const char *text = "X:1\nK:G\nabc\n"
                       "   \n"
                       "not part of a tune\n"
                       "X:2\nK:D\ndef\n"
                       " \t \n"
                       "X:3\nK:A\nefg\n";
    ts_tune_list l = abc(text, "ws.abc", 3);
    assert_string_equal(l.v[0].text, "X:1\nK:G\nabc");
    assert_string_equal(l.v[1].text, "X:2\nK:D\ndef");
    assert_string_equal(l.v[2].text, "X:3\nK:A\nefg");
    ts_tunes_free(&l);
}

static void test_abc_header_prose_skipped(void **state) {
    (void)state;
    const char *text = "%abc-2.1\n"
                       "%%book-title My Book\n"
                       "Some prose about the tunes.\n"
                       "\n"
                       "More prose.\n"
                       "\n"
                       "X:1\nT:Only\nK:C\nCDE|\n";
    ts_tune_list l = abc(text, "prose.abc", 1);
    assert_string_equal(l.v[0].text, "X:1\nT:Only\nK:C\nCDE|");
    assert_int_equal(l.v[0].index, 0);
    ts_tunes_free(&l);
    /* Prose only: no tune at all. */
    l = abc("Just words.\nNo tunes here.\n", "none.abc", 0);
    ts_tunes_free(&l);
}

static void test_abc_eof_without_newline(void **state) {
    (void)state;
    ts_tune_list l = abc("X:1\nT:End\nK:C\nCDEF", "eof.abc", 1);
    assert_string_equal(l.v[0].text, "X:1\nT:End\nK:C\nCDEF");
    ts_tunes_free(&l);
    l = abc("X:1\r\nK:C\r\n\r\nX:2\r\nK:D\r\nDEF", "eof2.abc", 2);
    assert_string_equal(l.v[0].text, "X:1\r\nK:C");
    assert_string_equal(l.v[1].text, "X:2\r\nK:D\r\nDEF");
    ts_tunes_free(&l);
}

static void test_abc_group_keys(void **state) {
    (void)state;
    const char *text = "X:1\nT:The Kesh\nK:G\nGAG|\n\n"
                       "X:2\nT:the kesh!\nK:G\nGBd|\n\n"
                       "X:3\nK:D\nFAd|\n\n"
                       "X:4\nT:  Drowsy   Maggie (No. 2)\nT:Second title\nK:Edor\nE2BE|\n\n"
                       "X:5\nK:G\nT:Part B\nGAB|\n";
    ts_tune_list l = abc(text, "keys.abc", 5);
    assert_string_equal(l.v[0].group, "title:thekesh");
    assert_string_equal(l.v[1].group, "title:thekesh");
    assert_string_equal(l.v[2].group, "tune:keys.abc#2");
    assert_string_equal(l.v[3].group, "title:drowsymaggieno2"); /* the first T: counts */
    /* A T: after K: is a part title in the body, not the tune's title. */
    assert_string_equal(l.v[4].group, "tune:keys.abc#4");
    ts_tunes_free(&l);
}

static void test_title_key(void **state) {
    (void)state;
    char key[64];
    const char *t = "Kesh Jig, The";
    assert_int_equal(ts_title_key(t, strlen(t), key, sizeof key), 1);
    assert_string_equal(key, "keshjigthe");
    t = "  -- !! --";
    assert_int_equal(ts_title_key(t, strlen(t), key, sizeof key), 0);
    assert_string_equal(key, "");
    t = "Reel No. 42";
    assert_int_equal(ts_title_key(t, 4, key, sizeof key), 1); /* only len bytes are read */
    assert_string_equal(key, "reel");
    /* Regression: non-ASCII punctuation and spaces are variants too. */
    char other[64];
    t = "Morrison\xe2\x80\x99s"; /* curly apostrophe */
    ts_title_key(t, strlen(t), key, sizeof key);
    ts_title_key("Morrison's", 10, other, sizeof other);
    assert_string_equal(key, other);
    t = "The\xc2\xa0Kesh \xe2\x80\x94 jig"; /* no-break space, em dash */
    ts_title_key(t, strlen(t), key, sizeof key);
    assert_string_equal(key, "thekeshjig");
    t = "\xc3\x89ire \xc3\xb3g"; /* Éire óg: letters stay, capitals fold */
    ts_title_key(t, strlen(t), key, sizeof key);
    assert_string_equal(key, "\xc3\xa9ire\xc3\xb3g");
    /* Regression (fuzz_ingest): a multi-byte sequence cut off at len is not read past len. */
    char *cut = malloc(5);
    memcpy(cut, "Ab\xe2\x80\x94", 5); /* an em dash, of which len keeps 2 bytes */
    assert_int_equal(ts_title_key(cut, 4, key, sizeof key), 1);
    assert_string_equal(key, "ab");
    memcpy(cut, "Ab\xf0\x9f\x8e", 5); /* a 4-byte lead with 2 continuation bytes at the end */
    assert_int_equal(ts_title_key(cut, 5, key, sizeof key), 1);
    assert_string_equal(key, "ab");
    free(cut);
}

/* ---- decoding ---- */

static void test_decode_bom(void **state) {
    (void)state;
    const unsigned char in[] = "\xEF\xBB\xBFX:1\nT:Bom\n";
    char *out;
    size_t len;
    ts_decoded_as how = TS_DECODED_LATIN1;
    assert_int_equal(ts_decode_text("bom.abc", in, sizeof in - 1, TS_ENC_AUTO, &out, &len, &how),
                     TS_OK);
    assert_int_equal(len, 10);
    assert_string_equal(out, "X:1\nT:Bom\n");
    assert_int_equal(how, TS_DECODED_UTF8);
    free(out);
}

static void test_decode_utf8_kept(void **state) {
    (void)state;
    const unsigned char in[] = "T:Caf\xc3\xa9\n";
    char *out;
    size_t len;
    ts_decoded_as how = TS_DECODED_LATIN1;
    assert_int_equal(ts_decode_text("u.abc", in, sizeof in - 1, TS_ENC_AUTO, &out, &len, &how),
                     TS_OK);
    assert_int_equal(len, 8);
    assert_memory_equal(out, "T:Caf\xc3\xa9\n", 9);
    assert_int_equal(how, TS_DECODED_UTF8);
    free(out);
    /* Forced Latin-1 transcodes every byte, even bytes that were valid UTF-8. */
    assert_int_equal(ts_decode_text("u.abc", in, sizeof in - 1, TS_ENC_LATIN1, &out, &len, &how),
                     TS_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(out, "T:Caf\xc3\x83\xc2\xa9\n", 11);
    assert_int_equal(how, TS_DECODED_LATIN1);
    free(out);
}

static void test_decode_latin1_auto(void **state) {
    (void)state;
    const unsigned char in[] = "T:Caf\xe9\n";
    char *out;
    size_t len;
    ts_decoded_as how = TS_DECODED_UTF8;
    assert_int_equal(ts_decode_text("old.abc", in, sizeof in - 1, TS_ENC_AUTO, &out, &len, &how),
                     TS_OK);
    assert_int_equal(len, 8);
    assert_memory_equal(out, "T:Caf\xc3\xa9\n", 9); /* NUL-terminated as well */
    assert_int_equal(how, TS_DECODED_LATIN1);
    assert_true(ts_utf8_valid((const unsigned char *)out, len));
    free(out);
}

static void test_decode_utf8_mode_rejects_latin1(void **state) {
    (void)state;
    const unsigned char in[] = "T:Caf\xe9\n";
    char *out = (char *)1;
    size_t len = 5;
    ts_decoded_as how;
    ts_clear_error();
    assert_int_equal(
        ts_decode_text("tunes/old.abc", in, sizeof in - 1, TS_ENC_UTF8, &out, &len, &how), TS_ERR);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_non_null(strstr(ts_last_error(), "tunes/old.abc"));
    assert_non_null(strstr(ts_last_error(), "UTF-8"));
}

static void test_decode_binary(void **state) {
    (void)state;
    const unsigned char in[] = {'X', ':', '1', '\n', 0, 0, 0, 'K', ':', 'C', '\n'};
    char *out;
    size_t len;
    ts_decoded_as how;
    ts_clear_error();
    assert_int_equal(ts_decode_text("blob.abc", in, sizeof in, TS_ENC_AUTO, &out, &len, &how),
                     TS_ERR);
    assert_null(out);
    assert_non_null(strstr(ts_last_error(), "binary"));
    assert_non_null(strstr(ts_last_error(), "blob.abc"));
    /* Forcing Latin-1 does not let binary through either. */
    assert_int_equal(ts_decode_text("blob.abc", in, sizeof in, TS_ENC_LATIN1, &out, &len, &how),
                     TS_ERR);
}

static void test_decode_utf16(void **state) {
    (void)state;
    const unsigned char le[] = {0xFF, 0xFE, 'X', 0, ':', 0, '1', 0, '\n', 0};
    const unsigned char be[] = {0xFE, 0xFF, 0, 'X', 0, ':', 0, '1', 0, '\n'};
    char *out;
    size_t len;
    ts_decoded_as how;
    ts_clear_error();
    assert_int_equal(ts_decode_text("w.abc", le, sizeof le, TS_ENC_AUTO, &out, &len, &how), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "UTF-16"));
    assert_non_null(strstr(ts_last_error(), "w.abc"));
    ts_clear_error();
    assert_int_equal(ts_decode_text("w.abc", be, sizeof be, TS_ENC_AUTO, &out, &len, &how), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "UTF-16"));
}

static void test_utf8_helpers(void **state) {
    (void)state;
    const char *s = "a\xc3\xa9\xe2\x99\xaf\xf0\x9d\x84\x9e"; /* a é ♯ 𝄞 */
    assert_int_equal(ts_utf8_length(s, strlen(s)), 4);
    assert_true(ts_utf8_valid((const unsigned char *)s, strlen(s)));
    uint32_t cp;
    assert_int_equal(ts_utf8_decode((const unsigned char *)s + 3, &cp), 3);
    assert_int_equal(cp, 0x266F);
    char buf[4];
    assert_int_equal(ts_utf8_encode(0x1D11E, buf), 4);
    assert_memory_equal(buf, "\xf0\x9d\x84\x9e", 4);
    /* Overlong '/', a lone surrogate, a truncated sequence and a stray continuation byte. */
    assert_false(ts_utf8_valid((const unsigned char *)"\xc0\xaf", 2));
    assert_false(ts_utf8_valid((const unsigned char *)"\xed\xa0\x80", 3));
    assert_false(ts_utf8_valid((const unsigned char *)"\xe2\x99", 2));
    assert_false(ts_utf8_valid((const unsigned char *)"a\x80", 2));
}

/* ---- JSON records ---- */

static void test_json_records(void **state) {
    (void)state;
    const char *json =
        "[\n"
        " {\"tune_id\": \"1\", \"setting_id\": \"11\", \"name\": \"The Kesh\", \"type\": \"jig\","
        "  \"meter\": \"6/8\", \"mode\": \"Gmajor\", \"abc\": \"|:GAG GAB|ABA ABd:|\"},\n"
        " {\"tune_id\": \"1\", \"setting_id\": \"12\", \"name\": \"The Kesh\", \"type\": \"jig\","
        "  \"meter\": \"6/8\", \"mode\": \"Gmajor\", \"abc\": \"|:G3 GAB|\\r\\nA3 ABd:|\"},\n"
        " {\"tune_id\": 2, \"setting_id\": 21, \"name\": \"Morrison's\", \"type\": \"jig\","
        "  \"meter\": \"6/8\", \"mode\": \"Edorian\", \"abc\": \"E2B B2A|\"},\n"
        " {\"tune_id\": \"3\", \"setting_id\": \"31\", \"name\": \"No Body\", \"type\": \"reel\","
        "  \"meter\": \"4/4\", \"mode\": \"Aminor\"},\n"
        " {\"tune_id\": \"4\", \"setting_id\": \"41\", \"name\": \"Empty Body\", \"type\": "
        "\"reel\","
        "  \"meter\": \"4/4\", \"mode\": \"Aminor\", \"abc\": \"\"},\n"
        " {\"tune_id\": \"5\", \"setting_id\": \"51\", \"name\": \"Silver Spear\", \"type\": "
        "\"reel\", \"meter\": \"4/4\", \"mode\": \"Aminor\", \"abc\": \"e2 ed|\"}\n"
        "]\n";
    ts_tune_list l = {0};
    uint32_t added = 0, without = 0;
    assert_int_equal(ts_ingest_json(json, strlen(json), "tunes.json", &l, &added, &without), TS_OK);
    assert_int_equal(added, 4);
    assert_int_equal(without, 2);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].text,
                        "X:11\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:Gmaj\n|:GAG GAB|ABA ABd:|");
    assert_string_equal(l.v[1].text,
                        "X:12\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:Gmaj\n|:G3 GAB|\r\nA3 ABd:|");
    assert_string_equal(l.v[2].text, "X:21\nT:Morrison's\nR:jig\nM:6/8\nL:1/8\nK:Edor\nE2B B2A|");
    assert_string_equal(l.v[3].text, "X:51\nT:Silver Spear\nR:reel\nM:4/4\nL:1/8\nK:Amin\ne2 ed|");
    /* Two settings of tune 1 share a group; numeric ids are written as integers. */
    assert_string_equal(l.v[0].group, "id:1");
    assert_string_equal(l.v[1].group, "id:1");
    assert_string_equal(l.v[2].group, "id:2");
    assert_string_equal(l.v[3].group, "id:5");
    /* The index is the record's position in the array, records without ABC included. */
    assert_int_equal(l.v[0].index, 0);
    assert_int_equal(l.v[2].index, 2);
    assert_int_equal(l.v[3].index, 5);
    assert_string_equal(l.v[3].source, "tunes.json");
    ts_tunes_free(&l);
}

/* Modes with sharps and flats keep them; text that is not a mode passes through. */
static void test_json_mode_keys(void **state) {
    (void)state;
    const char *json = "[{\"tune_id\": \"1\", \"mode\": \"F#minor\", \"abc\": \"F2\"},"
                       " {\"tune_id\": \"2\", \"mode\": \"Bbmixolydian\", \"abc\": \"B2\"},"
                       " {\"tune_id\": \"3\", \"mode\": \"HP\", \"abc\": \"A2\"}]";
    ts_tune_list l = {0};
    uint32_t added, without;
    assert_int_equal(ts_ingest_json(json, strlen(json), "m.json", &l, &added, &without), TS_OK);
    assert_int_equal(added, 3);
    /* No setting_id, name, type or meter: X: falls back to the tune id and the rest is left out. */
    assert_string_equal(l.v[0].text, "X:1\nL:1/8\nK:F#min\nF2");
    assert_string_equal(l.v[1].text, "X:2\nL:1/8\nK:Bbmix\nB2");
    assert_string_equal(l.v[2].text, "X:3\nL:1/8\nK:HP\nA2");
    ts_tunes_free(&l);
}

static void test_json_not_array(void **state) {
    (void)state;
    const char *json = "{\"tunes\": [{\"abc\": \"abc\"}]}";
    ts_tune_list l = {0};
    uint32_t added = 7, without = 7;
    ts_clear_error();
    assert_int_equal(ts_ingest_json(json, strlen(json), "obj.json", &l, &added, &without), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "not an array"));
    assert_non_null(strstr(ts_last_error(), "obj.json"));
    assert_int_equal(l.n, 0);
    assert_int_equal(added, 0);
}

static void test_json_invalid(void **state) {
    (void)state;
    const char *json = "[{\"tune_id\": \"1\", \"abc\": \"x\",]";
    ts_tune_list l = {0};
    uint32_t added, without;
    ts_clear_error();
    assert_int_equal(ts_ingest_json(json, strlen(json), "bad.json", &l, &added, &without), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "bad.json"));
    assert_non_null(strstr(ts_last_error(), "JSON"));
    assert_int_equal(l.n, 0);
    /* Only the first len bytes count: a valid prefix of a longer buffer parses. */
    const char *longer = "[]garbage";
    assert_int_equal(ts_ingest_json(longer, 2, "prefix.json", &l, &added, &without), TS_OK);
    assert_int_equal(added, 0);
}

/* ---- CSV records ---- */

static void test_csv_quoting(void **state) {
    (void)state;
    const char *csv = "tune_id,setting_id,name,type,meter,mode,abc\n"
                      "7,70,\"Kesh, The\",jig,6/8,Gmajor,\"|:GAG GAB|\nABA ABd:|\"\n"
                      "8,80,\"The \"\"Bag\"\" Reel\",reel,4/4,Edorian,e2ed|\n";
    ts_tune_list l = {0};
    uint32_t added = 0, without = 9;
    assert_int_equal(ts_ingest_csv(csv, strlen(csv), "t.csv", &l, &added, &without), TS_OK);
    assert_int_equal(added, 2);
    assert_int_equal(without, 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].text,
                        "X:70\nT:Kesh, The\nR:jig\nM:6/8\nL:1/8\nK:Gmaj\n|:GAG GAB|\nABA ABd:|");
    assert_string_equal(l.v[1].text,
                        "X:80\nT:The \"Bag\" Reel\nR:reel\nM:4/4\nL:1/8\nK:Edor\ne2ed|");
    assert_string_equal(l.v[0].group, "id:7");
    assert_string_equal(l.v[1].group, "id:8");
    assert_int_equal(l.v[1].index, 1);
    ts_tunes_free(&l);
}

/* CRLF rows, columns in another order, absent optional columns, a blank line and a row
 * without ABC. */
static void test_csv_crlf(void **state) {
    (void)state;
    const char *csv = "abc,name,tune_id,mode\r\n"
                      "\"AB|\r\ncd|\",Reel One,9,Aminor\r\n"
                      "\r\n"
                      ",No Body,10,Dmajor\r\n"
                      "fg|,Reel Two,9,Dmixolydian\r\n";
    ts_tune_list l = {0};
    uint32_t added = 0, without = 0;
    assert_int_equal(ts_ingest_csv(csv, strlen(csv), "crlf.csv", &l, &added, &without), TS_OK);
    assert_int_equal(added, 2);
    assert_int_equal(without, 1);
    assert_string_equal(l.v[0].text, "X:9\nT:Reel One\nL:1/8\nK:Amin\nAB|\r\ncd|");
    assert_string_equal(l.v[1].text, "X:9\nT:Reel Two\nL:1/8\nK:Dmix\nfg|");
    assert_string_equal(l.v[0].group, "id:9");
    assert_string_equal(l.v[1].group, "id:9");
    ts_tunes_free(&l);
}

static void test_csv_errors(void **state) {
    (void)state;
    ts_tune_list l = {0};
    uint32_t added, without;
    const char *no_abc = "tune_id,name\n1,A\n";
    ts_clear_error();
    assert_int_equal(ts_ingest_csv(no_abc, strlen(no_abc), "n.csv", &l, &added, &without), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "n.csv"));
    assert_non_null(strstr(ts_last_error(), "abc"));
    const char *unclosed = "tune_id,name,abc\n1,A,\"|:GAG GAB|\nABA\n";
    ts_clear_error();
    assert_int_equal(ts_ingest_csv(unclosed, strlen(unclosed), "u.csv", &l, &added, &without),
                     TS_ERR);
    assert_non_null(strstr(ts_last_error(), "unclosed"));
    ts_tunes_free(&l);
    /* An empty file has no header row. */
    assert_int_equal(ts_ingest_csv("", 0, "e.csv", &l, &added, &without), TS_ERR);
    assert_int_equal(l.n, 0);
}

/* ---- formats, folders, archives ---- */

static void test_format_from_name(void **state) {
    (void)state;
    assert_int_equal(ts_format_from_name("a/b/Tunes.ABC"), TS_FMT_ABC);
    assert_int_equal(ts_format_from_name("t.json"), TS_FMT_JSON);
    assert_int_equal(ts_format_from_name("t.csv"), TS_FMT_CSV);
    assert_int_equal(ts_format_from_name("t.zip"), TS_FMT_ARCHIVE);
    assert_int_equal(ts_format_from_name("t.tar.gz"), TS_FMT_ARCHIVE);
    assert_int_equal(ts_format_from_name("t.tgz"), TS_FMT_ARCHIVE);
    assert_int_equal(ts_format_from_name("README.md"), TS_FMT_UNKNOWN);
    assert_int_equal(ts_format_from_name("abc"), TS_FMT_UNKNOWN);
    assert_string_equal(ts_format_name(TS_FMT_CSV), "csv");
}

static const char *A_ABC = "X:1\nT:Alpha\nK:G\nGAB|\n\nX:2\nT:Beta\nK:D\nDEF|\n";
static const char *B_JSON =
    "[{\"tune_id\": \"5\", \"setting_id\": \"50\", \"name\": \"Gamma\", \"type\": \"reel\", "
    "\"meter\": \"4/4\", \"mode\": \"Gmajor\", \"abc\": \"gab|\"},"
    " {\"tune_id\": \"6\", \"setting_id\": \"60\", \"name\": \"Delta\", \"type\": \"reel\", "
    "\"meter\": \"4/4\", \"mode\": \"Dmajor\", \"abc\": \"def|\"}]";
static const char *C_CSV = "tune_id,setting_id,name,type,meter,mode,abc\n"
                           "7,70,Epsilon,jig,6/8,Aminor,ABc|\n"
                           "8,80,Zeta,jig,6/8,Edorian,EFG|\n";

static void test_ingest_folder(void **state) {
    const char *dir = *state;
    char p[4096];
    /* Written out of order, so that the reading order comes from sorting. */
    join(p, sizeof p, dir, "c.csv");
    write_text(p, C_CSV);
    join(p, sizeof p, dir, "README.md");
    write_text(p, "X:1\nT:Not a tune file\nK:C\nCDE|\n");
    join(p, sizeof p, dir, "a.abc");
    write_text(p, A_ABC);
    join(p, sizeof p, dir, ".hidden.abc");
    write_text(p, "X:1\nT:Hidden\nK:C\nCDE|\n");
    join(p, sizeof p, dir, "b.json");
    write_text(p, B_JSON);

    ts_ingest_options o = {.encoding = TS_ENC_AUTO};
    ts_tune_list l = {0};
    ts_input_log log = {0};
    assert_int_equal(ts_ingest_path(dir, &o, &l, &log), TS_OK);
    assert_int_equal(l.n, 6);
    assert_int_equal(log.n, 3);
    assert_true(ends_with(log.v[0].name, "/a.abc"));
    assert_true(ends_with(log.v[1].name, "/b.json"));
    assert_true(ends_with(log.v[2].name, "/c.csv"));
    assert_int_equal(log.v[0].format, TS_FMT_ABC);
    assert_int_equal(log.v[1].format, TS_FMT_JSON);
    assert_int_equal(log.v[2].format, TS_FMT_CSV);
    assert_int_equal(log.v[0].bytes, strlen(A_ABC));
    assert_int_equal(log.v[2].bytes, strlen(C_CSV));
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(log.v[i].tunes, 2);
        assert_int_equal(log.v[i].latin1, 0);
        assert_int_equal(strlen(log.v[i].sha256), 64);
    }
    assert_string_not_equal(log.v[0].sha256, log.v[1].sha256);
    assert_int_equal(log.records_without_abc, 0);
    const char *titles[6] = {"T:Alpha", "T:Beta", "T:Gamma", "T:Delta", "T:Epsilon", "T:Zeta"};
    for (size_t i = 0; i < 6; i++) {
        assert_non_null(strstr(l.v[i].text, titles[i]));
        assert_string_equal(l.v[i].source, log.v[i / 2].name);
        assert_int_equal(l.v[i].index, i % 2);
    }
    assert_string_equal(l.v[0].group, "title:alpha");
    assert_string_equal(l.v[3].group, "id:6");
    assert_string_equal(l.v[4].text, "X:70\nT:Epsilon\nR:jig\nM:6/8\nL:1/8\nK:Amin\nABc|");
    ts_tunes_free(&l);
    ts_input_log_free(&log);
}

/* Subfolders are read too (hidden ones are not); a folder with nothing readable is an error;
 * a single file with an unknown name is read by its content. */
static void test_ingest_folder_recursion_and_errors(void **state) {
    const char *dir = *state;
    char p[4096], sub[4096];
    join(sub, sizeof sub, dir, "sub");
    assert_int_equal(ts_mkdir_p(sub), TS_OK);
    join(p, sizeof p, sub, "deep.abc");
    write_text(p, "X:1\nT:Deep\nK:C\nC|\n");
    join(sub, sizeof sub, dir, ".git");
    assert_int_equal(ts_mkdir_p(sub), TS_OK);
    join(p, sizeof p, sub, "ignored.abc");
    write_text(p, "X:1\nT:Ignored\nK:C\nC|\n");
    join(p, sizeof p, dir, "top.abc");
    write_text(p, "X:1\nT:Top\nK:C\nC|\n");

    ts_ingest_options o = {.encoding = TS_ENC_AUTO};
    ts_tune_list l = {0};
    ts_input_log log = {0};
    assert_int_equal(ts_ingest_path(dir, &o, &l, &log), TS_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(log.n, 2);
    assert_true(ends_with(log.v[0].name, "/sub/deep.abc")); /* "sub" sorts before "top.abc" */
    assert_true(ends_with(log.v[1].name, "/top.abc"));
    ts_tunes_free(&l);
    ts_input_log_free(&log);

    char empty[4096];
    join(empty, sizeof empty, dir, "empty");
    assert_int_equal(ts_mkdir_p(empty), TS_OK);
    join(p, sizeof p, empty, "notes.txt");
    write_text(p, "X:1\nK:C\nC|\n");
    ts_clear_error();
    assert_int_equal(ts_ingest_path(empty, &o, &l, &log), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "no .abc"));
    /* The same .txt given directly is sniffed as ABC. */
    assert_int_equal(ts_ingest_path(p, &o, &l, &log), TS_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(log.v[0].format, TS_FMT_ABC);
    ts_tunes_free(&l);
    ts_input_log_free(&log);

    join(p, sizeof p, dir, "missing.abc");
    ts_clear_error();
    assert_int_equal(ts_ingest_path(p, &o, &l, &log), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "missing.abc"));
}

/* A Latin-1 file in a folder is transcoded in auto mode and refused in UTF-8 mode. */
static void test_ingest_path_latin1(void **state) {
    const char *dir = *state;
    char p[4096];
    join(p, sizeof p, dir, "old.abc");
    write_text(p, "X:1\nT:Caf\xe9\nK:C\nC|\n");
    ts_ingest_options o = {.encoding = TS_ENC_AUTO};
    ts_tune_list l = {0};
    ts_input_log log = {0};
    assert_int_equal(ts_ingest_path(dir, &o, &l, &log), TS_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].text, "X:1\nT:Caf\xc3\xa9\nK:C\nC|");
    assert_string_equal(l.v[0].group, "title:caf\xc3\xa9");
    assert_int_equal(log.v[0].latin1, 1);
    ts_tunes_free(&l);
    ts_input_log_free(&log);
    o.encoding = TS_ENC_UTF8;
    ts_clear_error();
    assert_int_equal(ts_ingest_path(dir, &o, &l, &log), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "old.abc"));
    ts_tunes_free(&l);
    ts_input_log_free(&log);
}

static void truncate_copy(const char *from, const char *to) {
    char *bytes;
    size_t n;
    assert_int_equal(ts_read_file(from, &bytes, &n), TS_OK);
    assert_true(n > 20);
    write_bytes(to, bytes, n / 2);
    free(bytes);
}

static const char *ARCHIVED_ABC = "X:1\nT:Packed One\nK:G\nGABc dedB|\n\n"
                                  "X:2\nT:Packed Two\nK:D\nDEFG ABcd|\n";

static void test_ingest_tar_gz(void **state) {
    const char *dir = *state;
    char src[4096], p[4096], tgz[4096], cmd[12288];
    join(src, sizeof src, dir, "src");
    assert_int_equal(ts_mkdir_p(src), TS_OK);
    join(p, sizeof p, src, "book.abc");
    write_text(p, ARCHIVED_ABC);
    join(p, sizeof p, src, "notes.md");
    write_text(p, "X:9\nK:C\nnot read\n");
    join(tgz, sizeof tgz, dir, "book.tar.gz");
    snprintf(cmd, sizeof cmd, "tar czf '%s' -C '%s' book.abc notes.md", tgz, src);
    run_or_skip(cmd);

    ts_ingest_options o = {.encoding = TS_ENC_AUTO};
    ts_tune_list l = {0};
    ts_input_log log = {0};
    assert_int_equal(ts_ingest_path(tgz, &o, &l, &log), TS_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(log.n, 1);
    char want[8192];
    snprintf(want, sizeof want, "%s!book.abc", tgz);
    assert_string_equal(log.v[0].name, want);
    assert_string_equal(l.v[0].source, want);
    assert_non_null(strchr(l.v[1].source, '!'));
    assert_string_equal(l.v[0].text, "X:1\nT:Packed One\nK:G\nGABc dedB|");
    assert_string_equal(l.v[1].text, "X:2\nT:Packed Two\nK:D\nDEFG ABcd|");
    assert_string_equal(l.v[1].group, "title:packedtwo");
    ts_tunes_free(&l);
    ts_input_log_free(&log);

    join(p, sizeof p, dir, "cut.tar.gz");
    truncate_copy(tgz, p);
    ts_clear_error();
    assert_int_equal(ts_ingest_path(p, &o, &l, &log), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "archive"));
    assert_non_null(strstr(ts_last_error(), "cut.tar.gz"));
    ts_tunes_free(&l);
    ts_input_log_free(&log);
}

static void test_ingest_zip(void **state) {
    const char *dir = *state;
    char zip[4096], p[4096], cmd[8192];
    join(zip, sizeof zip, dir, "book.zip");
    /* Deflated, with enough random notes that half the file cuts into the member's data. */
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import random, sys, zipfile\n"
             "random.seed(1)\n"
             "notes = lambda: \"\".join(random.choice(\"ABCDEFGabcdefg\") for _ in range(200))\n"
             "body = \"\".join(\"X:%%d\\nT:Zipped %%d\\nK:G\\n%%s\\n\\n\" %% (i, i, notes())"
             " for i in (1, 2))\n"
             "z = zipfile.ZipFile(sys.argv[1], \"w\", zipfile.ZIP_DEFLATED)\n"
             "z.writestr(\"in/tunes.abc\", body)\n"
             "z.close()' '%s'",
             zip);
    run_or_skip(cmd);

    ts_ingest_options o = {.encoding = TS_ENC_AUTO};
    ts_tune_list l = {0};
    ts_input_log log = {0};
    assert_int_equal(ts_ingest_path(zip, &o, &l, &log), TS_OK);
    assert_int_equal(l.n, 2);
    assert_true(ends_with(l.v[0].source, "book.zip!in/tunes.abc"));
    assert_string_equal(l.v[1].group, "title:zipped2");
    assert_int_equal(strlen(l.v[0].text), strlen("X:1\nT:Zipped 1\nK:G\n") + 200);
    ts_tunes_free(&l);
    ts_input_log_free(&log);

    join(p, sizeof p, dir, "cut.zip");
    truncate_copy(zip, p);
    ts_clear_error();
    assert_int_equal(ts_ingest_path(p, &o, &l, &log), TS_ERR);
    const char *e = ts_last_error();
    assert_true(strstr(e, "corrupt or truncated") || strstr(e, "archive"));
    ts_tunes_free(&l);
    ts_input_log_free(&log);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abc_several_tunes),
        cmocka_unit_test(test_abc_x_line_starts_tune),
        cmocka_unit_test(test_abc_crlf),
        cmocka_unit_test(test_abc_whitespace_line_ends_tune),
        cmocka_unit_test(test_abc_header_prose_skipped),
        cmocka_unit_test(test_abc_eof_without_newline),
        cmocka_unit_test(test_abc_group_keys),
        cmocka_unit_test(test_title_key),
        cmocka_unit_test(test_decode_bom),
        cmocka_unit_test(test_decode_utf8_kept),
        cmocka_unit_test(test_decode_latin1_auto),
        cmocka_unit_test(test_decode_utf8_mode_rejects_latin1),
        cmocka_unit_test(test_decode_binary),
        cmocka_unit_test(test_decode_utf16),
        cmocka_unit_test(test_utf8_helpers),
        cmocka_unit_test(test_json_records),
        cmocka_unit_test(test_json_mode_keys),
        cmocka_unit_test(test_json_not_array),
        cmocka_unit_test(test_json_invalid),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_crlf),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_format_from_name),
        cmocka_unit_test_setup_teardown(test_ingest_folder, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_folder_recursion_and_errors, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_path_latin1, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_tar_gz, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_ingest_zip, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
