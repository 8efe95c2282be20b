/*
 * test_safetensors.c — unit tests for the safetensors reader and writer (src/util/safetensors.c).
 *
 * Round trips through the writer and reader; the writer's bytes checked against the format
 * itself (length prefix, padded JSON header, contiguous data); a file written by hand from the
 * format description; every kind of damage the reader must refuse with one clear line (flipped
 * byte, truncation, oversized header length, bad JSON, bad offsets); and the PyTorch golden
 * files under tests/golden, written by tests/golden/make_golden.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/safetensors.h"
#include "util/sha256.h"

static char tmp_dir[4096];

static int setup(void **state) {
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/ts_st_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    ts_remove_tree(tmp_dir);
    return 0;
}

static const char *tmp_path(const char *name) {
    static char path[4096];
    return ts_path_join(path, sizeof path, tmp_dir, name);
}

/* The last error contains needle (printed when it does not). */
static void assert_error_has(const char *needle) {
    const char *msg = ts_last_error();
    if (!strstr(msg, needle)) print_error("error \"%s\" lacks \"%s\"\n", msg, needle);
    assert_non_null(strstr(msg, needle));
    assert_null(strchr(msg, '\n'));
}

/* Writes an 8-byte little-endian length, the header text (as is) and the data bytes. */
static void write_raw(const char *path, uint64_t hlen, const char *header, const void *data,
                      size_t ndata) {
    size_t len = strlen(header);
    char *buf = malloc(8 + len + ndata + 1);
    assert_non_null(buf);
    for (int i = 0; i < 8; i++)
        buf[i] = (char)(hlen >> (8 * i));
    memcpy(buf + 8, header, len);
    if (ndata) memcpy(buf + 8 + len, data, ndata);
    assert_int_equal(ts_write_file_atomic(path, buf, 8 + len + ndata), TS_OK);
    free(buf);
}

/* Opens a file made of header + data and expects the error to mention needle. */
static void expect_bad_header(const char *header, const void *data, size_t ndata,
                              const char *needle) {
    const char *path = tmp_path("bad.safetensors");
    write_raw(path, strlen(header), header, data, ndata);
    ts_safetensors st;
    assert_int_equal(ts_st_open(&st, path), TS_ERR);
    assert_error_has(path);
    assert_error_has(needle);
    assert_null(st.data);
    ts_st_close(&st);
}

/* A small file written by the writer, used by several tests. */
static const float mat[2][3] = {{1.5f, -2.0f, 3.25f}, {0.0f, -0.0f, 1e-30f}};
static const int32_t ids[5] = {7, -1, 0, 2147483647, -2147483647 - 1};
static const int64_t big[2] = {INT64_C(1) << 40, -3};
static const uint8_t bytes[3] = {0xde, 0xad, 0x01};

static void write_sample(const char *path) {
    ts_st_writer *w = ts_st_writer_new();
    assert_non_null(w);
    const int64_t s_mat[2] = {2, 3}, s_ids[1] = {5}, s_big[1] = {2}, s_bytes[1] = {3};
    float scalar = 3.14159f;
    assert_int_equal(ts_st_add(w, "mat", "F32", 2, s_mat, mat, sizeof mat), TS_OK);
    assert_int_equal(ts_st_add(w, "bytes", "U8", 1, s_bytes, bytes, sizeof bytes), TS_OK);
    assert_int_equal(ts_st_add(w, "ids", "I32", 1, s_ids, ids, sizeof ids), TS_OK);
    assert_int_equal(ts_st_add_copy(w, "scalar", "F32", 0, NULL, &scalar, sizeof scalar), TS_OK);
    assert_int_equal(ts_st_add(w, "big", "I64", 1, s_big, big, sizeof big), TS_OK);
    scalar = -1.0f; /* the copy must not see this */
    assert_int_equal(ts_st_add_meta(w, "config", "{\"d_model\": 16, \"name\": \"a\\\"b\"}"), TS_OK);
    assert_int_equal(ts_st_add_meta(w, "step", "1"), TS_OK);
    assert_int_equal(ts_st_add_meta(w, "step", "42"), TS_OK); /* replaces */
    assert_int_equal(ts_st_write(w, path), TS_OK);
    ts_st_writer_free(w);
}

static void test_round_trip(void **state) {
    (void)state;
    const char *path = tmp_path("sample.safetensors");
    write_sample(path);

    ts_safetensors st;
    assert_int_equal(ts_st_open(&st, path), TS_OK);
    assert_int_equal(st.n, 5);
    assert_int_equal((uintptr_t)(st.data + st.data_start) % 8, 0);

    const ts_st_tensor *t = ts_st_find(&st, "mat");
    assert_non_null(t);
    assert_string_equal(t->dtype, "F32");
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_int_equal(t->nbytes, sizeof mat);
    assert_memory_equal(ts_st_data(&st, t), mat, sizeof mat);

    t = ts_st_find(&st, "ids");
    assert_non_null(t);
    assert_string_equal(t->dtype, "I32");
    assert_int_equal(t->ndim, 1);
    assert_int_equal(t->shape[0], 5);
    assert_memory_equal(ts_st_data(&st, t), ids, sizeof ids);

    t = ts_st_find(&st, "scalar");
    assert_non_null(t);
    assert_int_equal(t->ndim, 0);
    assert_int_equal(t->nbytes, 4);
    float scalar;
    memcpy(&scalar, ts_st_data(&st, t), 4);
    assert_true(scalar == 3.14159f);

    t = ts_st_find(&st, "big");
    assert_non_null(t);
    assert_string_equal(t->dtype, "I64");
    assert_memory_equal(ts_st_data(&st, t), big, sizeof big);

    t = ts_st_find(&st, "bytes");
    assert_non_null(t);
    assert_string_equal(t->dtype, "U8");
    assert_memory_equal(ts_st_data(&st, t), bytes, sizeof bytes);

    /* Every tensor is aligned to its element size in memory. */
    for (size_t i = 0; i < st.n; i++)
        assert_int_equal(
            (uintptr_t)ts_st_data(&st, &st.tensors[i]) % ts_st_dtype_size(st.tensors[i].dtype), 0);

    assert_null(ts_st_find(&st, "missing"));
    assert_string_equal(ts_st_meta(&st, "config"), "{\"d_model\": 16, \"name\": \"a\\\"b\"}");
    assert_string_equal(ts_st_meta(&st, "step"), "42");
    assert_non_null(ts_st_meta(&st, TS_ST_CHECKSUM_KEY));
    assert_null(ts_st_meta(&st, "absent"));
    ts_st_close(&st);
    ts_st_close(&st); /* closing twice is harmless */
}

/* The writer's bytes, read without the reader: length prefix, space-padded JSON header that
 * starts the data section 8-aligned, tensors contiguous from offset 0, the checksum. */
static void test_writer_bytes_follow_format(void **state) {
    (void)state;
    const char *path = tmp_path("sample.safetensors");
    write_sample(path);
    char *buf;
    size_t len;
    assert_int_equal(ts_read_file(path, &buf, &len), TS_OK);
    assert_true(len > 8);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | (unsigned char)buf[i];
    assert_int_equal(hlen % 8, 0);
    assert_true(8 + hlen <= len);
    assert_int_equal(buf[8], '{');

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf + 8, hlen, &end, 0);
    assert_non_null(root);
    for (const char *p = end; p < buf + 8 + hlen; p++)
        assert_int_equal(*p, ' ');

    /* Layout: 8-byte elements first, then 4-byte ones in the order added, then 1-byte ones. */
    const char *order[] = {"big", "mat", "ids", "scalar", "bytes"};
    const void *src[] = {big, mat, ids, NULL, bytes};
    size_t expect = 0;
    const char *data = buf + 8 + hlen;
    for (int i = 0; i < 5; i++) {
        cJSON *t = cJSON_GetObjectItemCaseSensitive(root, order[i]);
        assert_non_null(t);
        cJSON *offs = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
        size_t b = (size_t)cJSON_GetArrayItem(offs, 0)->valuedouble;
        size_t e = (size_t)cJSON_GetArrayItem(offs, 1)->valuedouble;
        assert_int_equal(b, expect);
        if (src[i]) assert_memory_equal(data + b, src[i], e - b);
        expect = e;
    }
    assert_int_equal(8 + hlen + expect, len);

    cJSON *shape =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "scalar"), "shape");
    assert_true(cJSON_IsArray(shape));
    assert_int_equal(cJSON_GetArraySize(shape), 0);

    cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    char hex[65];
    ts_sha256_hex(data, expect, hex);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(meta, TS_ST_CHECKSUM_KEY)->valuestring,
                        hex);
    cJSON_Delete(root);
    free(buf);
}

/* A file built by hand from the format description: no metadata, no checksum, a header length
 * that is not a multiple of 8, keys in an order unlike the data's. */
static void test_hand_built_file(void **state) {
    (void)state;
    const char *header = "{\"b\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[8,12]},"
                         "\"a\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]}}";
    /* a = [[1.0], [-2.5]] as little-endian F32, b = 258 as little-endian I32 */
    const unsigned char data[12] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00,
                                    0x20, 0xc0, 0x02, 0x01, 0x00, 0x00};
    assert_true((8 + strlen(header)) % 8 != 0);
    const char *path = tmp_path("hand.safetensors");
    write_raw(path, strlen(header), header, data, sizeof data);

    ts_safetensors st;
    assert_int_equal(ts_st_open(&st, path), TS_OK);
    assert_int_equal(st.n, 2);
    assert_string_equal(st.tensors[0].name, "b"); /* header order */
    assert_null(st.metadata);
    assert_null(ts_st_meta(&st, TS_ST_CHECKSUM_KEY));

    const int64_t shape_a[2] = {2, 1};
    const ts_st_tensor *a, *b;
    assert_int_equal(ts_st_expect(&st, "a", "F32", 2, shape_a, &a), TS_OK);
    assert_int_equal(ts_st_expect(&st, "b", "I32", 0, NULL, &b), TS_OK);
    const float *fa = ts_st_data(&st, a);
    assert_int_equal((uintptr_t)fa % 4, 0); /* aligned although the header length is odd */
    assert_true(fa[0] == 1.0f && fa[1] == -2.5f);
    assert_int_equal(*(const int32_t *)ts_st_data(&st, b), 258);
    ts_st_close(&st);

    /* The same file with trailing spaces in the header, as the official writer pads it. */
    char padded[256];
    snprintf(padded, sizeof padded, "%s   ", header);
    write_raw(path, strlen(padded), padded, data, sizeof data);
    assert_int_equal(ts_st_open(&st, path), TS_OK);
    ts_st_close(&st);
}

static void test_flipped_byte(void **state) {
    (void)state;
    const char *path = tmp_path("sample.safetensors");
    write_sample(path);
    char *buf;
    size_t len;
    assert_int_equal(ts_read_file(path, &buf, &len), TS_OK);
    buf[len - 5] ^= 0x10; /* inside the data section */
    assert_int_equal(ts_write_file_atomic(path, buf, len), TS_OK);
    free(buf);

    ts_safetensors st;
    assert_int_equal(ts_st_open(&st, path), TS_ERR);
    assert_error_has(path);
    assert_error_has("checksum mismatch (file corrupt)");
}

static void test_truncated(void **state) {
    (void)state;
    const char *path = tmp_path("sample.safetensors");
    write_sample(path);
    char *buf;
    size_t len;
    assert_int_equal(ts_read_file(path, &buf, &len), TS_OK);
    ts_safetensors st;
    const size_t cuts[] = {len - 1, len - 9, 40, 8, 5, 0};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        assert_int_equal(ts_write_file_atomic(path, buf, cuts[i]), TS_OK);
        assert_int_equal(ts_st_open(&st, path), TS_ERR);
        assert_error_has(path);
        assert_error_has("truncated safetensors file");
    }
    free(buf);
}

static void test_header_length_too_large(void **state) {
    (void)state;
    const char *path = tmp_path("long.safetensors");
    ts_safetensors st;
    write_raw(path, 1000, "{}", NULL, 0);
    assert_int_equal(ts_st_open(&st, path), TS_ERR);
    assert_error_has("truncated safetensors file (header says 1000 bytes, file has 2");

    write_raw(path, UINT64_C(1) << 62, "{}", NULL, 0);
    assert_int_equal(ts_st_open(&st, path), TS_ERR);
    assert_error_has("not a safetensors file");

    assert_int_equal(ts_st_open(&st, tmp_path("does-not-exist")), TS_ERR);
    assert_error_has("cannot open");
}

static void test_bad_json(void **state) {
    (void)state;
    expect_bad_header("{\"a\": {\"dtype\": \"F32\", ", NULL, 0, "not valid JSON");
    expect_bad_header("garbage!", NULL, 0, "not valid JSON");
    expect_bad_header("[1, 2]  ", NULL, 0, "not a JSON object");
    expect_bad_header("{} xx", NULL, 0, "unexpected bytes after the JSON header");
    expect_bad_header("{\"a\": 3}", NULL, 0, "\"a\" is not an object");
    expect_bad_header("{\"__metadata__\": {\"k\": 1}}", NULL, 0, "not a string");
    expect_bad_header("{\"__metadata__\": []}", NULL, 0, "__metadata__");
}

static void test_bad_offsets(void **state) {
    (void)state;
    const unsigned char data[16] = {0};
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                      data, 12, "overlap");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", data, 16,
                      "truncated");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", data, 8,
                      "belong to no tensor");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data, 8,
                      "unexpected bytes after the last tensor");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", data, 8,
                      "needs 12");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", data, 8,
                      "end before they begin");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", data, 8,
                      "data_offsets");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0.5,8]}}", data, 8,
                      "data_offsets");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", data, 8,
                      "shape");
    expect_bad_header("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", data, 8,
                      "unknown dtype");
    expect_bad_header("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", data, 8, "dtype");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                      data, 8, "appears twice");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                      "\"data_offsets\":[0,4]}}",
                      data, 4, "dimensions");
}

static void test_writer_rejects(void **state) {
    (void)state;
    ts_st_writer *w = ts_st_writer_new();
    assert_non_null(w);
    const float v[4] = {1, 2, 3, 4};
    const int64_t s4[1] = {4}, s3[1] = {3}, neg[1] = {-4};
    assert_int_equal(ts_st_add(w, "v", "F32", 1, s4, v, sizeof v), TS_OK);
    assert_int_equal(ts_st_add(w, "v", "F32", 1, s4, v, sizeof v), TS_ERR);
    assert_error_has("added twice");
    assert_int_equal(ts_st_add(w, "w", "F32", 1, s3, v, sizeof v), TS_ERR);
    assert_error_has("needs 12");
    assert_int_equal(ts_st_add(w, "w", "F33", 1, s4, v, sizeof v), TS_ERR);
    assert_error_has("unknown dtype");
    assert_int_equal(ts_st_add(w, "w", "F32", 1, neg, v, sizeof v), TS_ERR);
    assert_int_equal(ts_st_add(w, "w", "F32", 9, s4, v, sizeof v), TS_ERR);
    assert_int_equal(ts_st_add(w, "__metadata__", "F32", 1, s4, v, sizeof v), TS_ERR);
    assert_int_equal(ts_st_add(w, "", "F32", 1, s4, v, sizeof v), TS_ERR);
    assert_int_equal(ts_st_add_meta(w, TS_ST_CHECKSUM_KEY, "0"), TS_ERR);
    assert_error_has("reserved");

    /* A failed write names the file and leaves nothing behind. */
    assert_int_equal(ts_st_write(w, tmp_path("no-such-dir/x.safetensors")), TS_ERR);
    assert_error_has("no-such-dir/x.safetensors");
    assert_false(ts_is_dir(tmp_path("no-such-dir")));

    /* Rejected adds left the writer intact: it writes just "v". */
    const char *path = tmp_path("v.safetensors");
    assert_int_equal(ts_st_write(w, path), TS_OK);
    ts_st_writer_free(w);
    ts_safetensors st;
    assert_int_equal(ts_st_open(&st, path), TS_OK);
    assert_int_equal(st.n, 1);
    const ts_st_tensor *t;
    assert_int_equal(ts_st_expect(&st, "v", "F32", 1, s4, &t), TS_OK);
    assert_int_equal(ts_st_expect(&st, "v", "F32", 1, s3, &t), TS_ERR);
    assert_error_has("tensor v is F32 [4], expected F32 [3]");
    assert_null(t);
    assert_int_equal(ts_st_expect(&st, "nope", "F32", 1, s4, &t), TS_ERR);
    assert_error_has("no tensor named nope");
    ts_st_close(&st);
}

/* An empty writer writes a valid file with no tensors. */
static void test_empty_file(void **state) {
    (void)state;
    ts_st_writer *w = ts_st_writer_new();
    const char *path = tmp_path("empty.safetensors");
    assert_int_equal(ts_st_write(w, path), TS_OK);
    ts_st_writer_free(w);
    ts_safetensors st;
    assert_int_equal(ts_st_open(&st, path), TS_OK);
    assert_int_equal(st.n, 0);
    assert_int_equal(st.size, st.data_start);
    ts_st_close(&st);
}

/* ------------------------------------------------------------------------------------------- */
/* The PyTorch golden files. */

static void golden_path(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/tests/golden/%s", TS_SOURCE_DIR, name);
}

static void check_shape(const ts_safetensors *st, const char *name, const char *dtype, int ndim,
                        int64_t d0, int64_t d1, int64_t d2) {
    const int64_t shape[3] = {d0, d1, d2};
    const ts_st_tensor *t;
    if (ts_st_expect(st, name, dtype, ndim, shape, &t) != TS_OK)
        print_error("%s\n", ts_last_error());
    assert_non_null(t);
}

/* Every "param.X" has "grad.X", "param3.X", "exp_avg3.X" and "exp_avg_sq3.X" of its shape;
 * returns the parameter count. */
static int64_t check_families(const ts_safetensors *st) {
    int64_t total = 0;
    const char *families[] = {"grad.", "param3.", "exp_avg3.", "exp_avg_sq3."};
    for (size_t i = 0; i < st->n; i++) {
        const ts_st_tensor *p = &st->tensors[i];
        if (strncmp(p->name, "param.", 6) != 0) continue;
        total += ts_st_numel(p->ndim, p->shape);
        for (int f = 0; f < 4; f++) {
            char name[512];
            snprintf(name, sizeof name, "%s%s", families[f], p->name + 6);
            const ts_st_tensor *t;
            if (ts_st_expect(st, name, "F32", p->ndim, p->shape, &t) != TS_OK)
                print_error("%s\n", ts_last_error());
            assert_non_null(t);
        }
    }
    return total;
}

static void check_common(const ts_safetensors *st) {
    check_shape(st, "x", "I32", 2, 3, 7, 0);
    check_shape(st, "y", "I32", 2, 3, 7, 0);
    check_shape(st, "logits", "F32", 3, 3, 7, 23);
    check_shape(st, "loss", "F32", 0, 0, 0, 0);
    check_shape(st, "step_loss", "F32", 1, 3, 0, 0);
    check_shape(st, "grad_norm", "F32", 1, 3, 0, 0);
    check_shape(st, "lr", "F32", 1, 3, 0, 0);
    assert_non_null(ts_st_meta(st, TS_ST_CHECKSUM_KEY)); /* so ts_st_open verified it */
    assert_non_null(ts_st_meta(st, "torch_version"));
    assert_string_equal(ts_st_meta(st, "generator"), "tests/golden/make_golden.py");
    cJSON *config = cJSON_Parse(ts_st_meta(st, "config"));
    assert_non_null(config);
    assert_int_equal(cJSON_GetObjectItem(config, "vocab_size")->valueint, 23);
    cJSON_Delete(config);

    /* Every row's last target is <PAD> (0); ids are in [0, 23). */
    const int32_t *x = ts_st_data(st, ts_st_find(st, "x"));
    const int32_t *y = ts_st_data(st, ts_st_find(st, "y"));
    for (int r = 0; r < 3; r++)
        assert_int_equal(y[r * 7 + 6], 0);
    for (int i = 0; i < 21; i++)
        assert_true(x[i] >= 0 && x[i] < 23 && y[i] >= 0 && y[i] < 23);

    /* Near-zero initial logits give a loss near ln(23); the step-1 loss is the same loss. */
    float loss, steps[3], lr[3];
    memcpy(&loss, ts_st_data(st, ts_st_find(st, "loss")), 4);
    memcpy(steps, ts_st_data(st, ts_st_find(st, "step_loss")), sizeof steps);
    memcpy(lr, ts_st_data(st, ts_st_find(st, "lr")), sizeof lr);
    assert_true(fabsf(loss - logf(23.0f)) < 0.1f);
    assert_true(loss == steps[0]);
    assert_true(lr[0] == 0.0f && lr[1] == 0.005f && lr[2] == 0.01f);
}

static void test_golden_transformer(void **state) {
    (void)state;
    char path[4096];
    golden_path(path, sizeof path, "transformer_tiny.safetensors");
    ts_safetensors st;
    if (ts_st_open(&st, path) != TS_OK)
        fail_msg("%s (regenerate with /usr/bin/python3 tests/golden/make_golden.py)",
                 ts_last_error());
    check_common(&st);
    check_shape(&st, "param.token_embedding.weight", "F32", 2, 23, 16, 0);
    check_shape(&st, "param.position_embedding.weight", "F32", 2, 8, 16, 0);
    check_shape(&st, "param.blocks.0.attention.in_proj_weight", "F32", 2, 48, 16, 0);
    check_shape(&st, "param.blocks.0.attention.in_proj_bias", "F32", 1, 48, 0, 0);
    check_shape(&st, "param.blocks.1.attention.out_proj.weight", "F32", 2, 16, 16, 0);
    check_shape(&st, "param.blocks.1.ff.0.weight", "F32", 2, 64, 16, 0);
    check_shape(&st, "param.blocks.1.ff.3.weight", "F32", 2, 16, 64, 0);
    check_shape(&st, "param.blocks.1.norm2.bias", "F32", 1, 16, 0, 0);
    check_shape(&st, "param.norm.weight", "F32", 1, 16, 0, 0);
    check_shape(&st, "param.output.weight", "F32", 2, 23, 16, 0);
    check_shape(&st, "grad.blocks.0.ff.3.bias", "F32", 1, 16, 0, 0);
    assert_int_equal(check_families(&st), 7479);
    ts_st_close(&st);
}

static void test_golden_lstm(void **state) {
    (void)state;
    char path[4096];
    golden_path(path, sizeof path, "lstm_tiny.safetensors");
    ts_safetensors st;
    if (ts_st_open(&st, path) != TS_OK)
        fail_msg("%s (regenerate with /usr/bin/python3 tests/golden/make_golden.py)",
                 ts_last_error());
    check_common(&st);
    check_shape(&st, "param.embedding.weight", "F32", 2, 23, 16, 0);
    check_shape(&st, "param.lstm.weight_ih_l0", "F32", 2, 64, 16, 0);
    check_shape(&st, "param.lstm.weight_hh_l1", "F32", 2, 64, 16, 0);
    check_shape(&st, "param.lstm.bias_ih_l1", "F32", 1, 64, 0, 0);
    check_shape(&st, "param.lstm.bias_hh_l0", "F32", 1, 64, 0, 0);
    check_shape(&st, "param.output.bias", "F32", 1, 23, 0, 0);
    assert_int_equal(check_families(&st), 5111);
    ts_st_close(&st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writer_bytes_follow_format),
        cmocka_unit_test(test_hand_built_file),
        cmocka_unit_test(test_flipped_byte),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_header_length_too_large),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_offsets),
        cmocka_unit_test(test_writer_rejects),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_golden_transformer),
        cmocka_unit_test(test_golden_lstm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
