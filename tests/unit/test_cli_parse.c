/* test_cli_parse.c — the train and sweep option parsers alone: values land in the options, a
 * second parse in the same process starts from scratch (getopt state reset), errors exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_args.h"
#include "cli/cli_backend_opts.h"
#include "cli/commands.h"

static void train_options_land(void **state) {
    (void)state;
    char *a[] = {"train", "--model", "lstm-1M", "--data",      "d",    "--steps", "7",
                 "-q",    "--lr",    "0.001",   "--mem-limit", "1MiB", NULL};
    ts_train_options o;
    assert_int_equal(ts_train_parse_args(12, a, &o), -1);
    assert_string_equal(o.model, "lstm-1M");
    assert_int_equal(o.steps, 7);
    assert_true(o.quiet);
    assert_true(o.opt.lr == 0.001);
    assert_int_equal(o.mem_limit, 1 << 20);
    /* A second parse (as the fuzzer and tests do) sees none of the first one's state, even after
     * one that stopped inside a cluster of short options. */
    char *b[] = {"train", "-hq", NULL};
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    assert_int_equal(ts_train_parse_args(2, b, &o), 0);
    fclose(stdout);
    stdout = saved;
    char *c[] = {"train", "--model", "m", "--data", "x", NULL};
    assert_int_equal(ts_train_parse_args(5, c, &o), -1);
    assert_int_equal(o.steps, 0);
    assert_false(o.quiet);
}

static void bad_train_values_exit_2(void **state) {
    (void)state;
    ts_train_options o;
    char *zero[] = {"train", "--model", "m", "--data", "x", "--batch", "0", NULL};
    assert_int_equal(ts_train_parse_args(7, zero, &o), 2);
    char *missing[] = {"train", "--model", NULL};
    assert_int_equal(ts_train_parse_args(2, missing, &o), 2);
    char *unknown[] = {"train", "--nope", NULL};
    assert_int_equal(ts_train_parse_args(2, unknown, &o), 2);
}

static void sweep_options_land(void **state) {
    (void)state;
    char *a[] = {"sweep",     "--preset",   "quick", "--data",      "d",
                 "--backend", "cpu,vulkan", "--out", "o",           "--max-params",
                 "25M",       "--tokens",   "1k",    "--no-report", NULL};
    ts_sweep_options o;
    int report = -1, json = -1;
    assert_int_equal(ts_sweep_parse_args(14, a, &o, &report, &json), -1);
    assert_string_equal(o.backends, "cpu,vulkan");
    assert_true(o.max_params == 25e6);
    assert_true(o.over.tokens == 1e3);
    assert_int_equal(report, 0);
    assert_int_equal(json, 0);
    char *two[] = {"sweep", "--preset", "p",       "--data", "d",        "--backend", "cpu",
                   "--out", "o",        "--steps", "3",      "--epochs", "1",         NULL};
    assert_int_equal(ts_sweep_parse_args(13, two, &o, &report, &json), 2);
}

static void numbers_are_whole_and_in_range(void **state) {
    (void)state;
    double v = -1;
    assert_int_equal(ts_cli_number("1e-3", 0, 1, &v), 1);
    assert_true(v == 1e-3);
    assert_int_equal(ts_cli_number("2x", 0, 10, &v), 0);
    assert_int_equal(ts_cli_number("", 0, 10, &v), 0);
    assert_int_equal(ts_cli_number("nan", 0, 10, &v), 0);
    assert_int_equal(ts_cli_number("11", 0, 10, &v), 0);
    assert_int_equal(ts_cli_number("1e999", 0, 1e300, &v), 0);
}

/* The backend flags are one parser for every command: train and sweep land the same values. */
static void backend_flags_shared(void **state) {
    (void)state;
    ts_cli_backend b = {0};
    assert_int_equal(ts_cli_backend_flag(TS_OPT_BACKEND, "vulkan", &b), 1);
    assert_int_equal(ts_cli_backend_flag(TS_OPT_DEVICE, "2", &b), 1);
    assert_int_equal(ts_cli_backend_flag(TS_OPT_THREADS, "0", &b), 1); /* 0: all cores */
    assert_int_equal(ts_cli_backend_flag(TS_OPT_MEM_LIMIT, "1.5KiB", &b), 1);
    assert_string_equal(b.backend, "vulkan");
    assert_true(b.device_set && b.o.device == 2 && b.o.threads == 0 && b.o.mem_limit == 1536);
    const char *bad_device[] = {"-1", "1.5", "abc", "", "2e6"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(ts_cli_backend_flag(TS_OPT_DEVICE, bad_device[i], &b), 0);
    assert_int_equal(ts_cli_backend_flag(TS_OPT_THREADS, "4097", &b), 0);
    assert_int_equal(ts_cli_backend_flag(TS_OPT_MEM_LIMIT, "0", &b), 0);
    assert_int_equal(ts_cli_backend_flag(TS_OPT_MEM_LIMIT, "lots", &b), 0);
    assert_int_equal(ts_cli_backend_flag('b', "cpu", &b), -1); /* not one of them */
    char *t[] = {"train",  "--model",  "m", "--data",    "d", "--backend",
                 "opencl", "--device", "3", "--threads", "5", NULL};
    ts_train_options o;
    assert_int_equal(ts_train_parse_args(11, t, &o), -1);
    assert_string_equal(o.backend, "opencl");
    assert_true(o.device == 3 && o.threads == 5 && o.mem_limit == 0);
    char *w[] = {"sweep", "--preset", "p", "--data",    "d", "--backend",   "opencl", "--out",
                 "o",     "--device", "3", "--threads", "5", "--mem-limit", "2MiB",   NULL};
    ts_sweep_options so;
    int report, json;
    assert_int_equal(ts_sweep_parse_args(15, w, &so, &report, &json), -1);
    assert_string_equal(so.backends, "opencl");
    assert_true(so.device == 3 && so.device_set && so.threads == 5 && so.mem_limit == 2 << 20);
    char *bad[] = {"train", "--model", "m", "--data", "d", "--threads", "1.5", NULL};
    assert_int_equal(ts_train_parse_args(7, bad, &o), 2);
}

static int even(const char *s, void *dest) {
    double v;
    if (!ts_cli_number(s, 0, 100, &v) || (int)v % 2) return 0;
    *(int *)dest = (int)v;
    return 1;
}

static void no_usage(FILE *out) {
    (void)out;
}

/* The table-driven parser every command uses: kinds, ranges, counters, short names, backend
 * flags only where the command takes them, positional arguments up to max_args. */
static void table_parser(void **state) {
    (void)state;
    int on = 0, off = 1, i = 0, e = 0, n_i = 0, first = -1;
    float f = 0;
    const char *str = NULL;
    const ts_cli_opt opts[] = {TS_OPT_SHORT("on", 'o', TS_ARG_ON, &on),
                               TS_OPT("off", TS_ARG_OFF, &off),
                               TS_OPT("str", TS_ARG_STR, &str),
                               {"int", 0, TS_ARG_INT, &i, -5, 5, NULL, &n_i},
                               TS_OPT_NUM("float", TS_ARG_FLOAT, &f, 0, 1),
                               TS_OPT_FN("even", even, &e),
                               TS_OPT_END};
    ts_cli_backend bk = {0};
    ts_cli_spec spec = {"t", opts, &bk, 0, no_usage, 1};
    char *a[] = {"t",       "-o",  "--off",  "--str", "x",         "--int", "-3",  "--int", "4",
                 "--float", "0.5", "--even", "42",    "--threads", "3",     "pos", NULL};
    assert_int_equal(ts_cli_parse(&spec, 16, a, &first), -1);
    assert_true(on == 1 && off == 0 && i == 4 && n_i == 2 && f == 0.5f && e == 42);
    assert_string_equal(str, "x");
    assert_int_equal(bk.o.threads, 3);
    assert_int_equal(first, 15);
    char *odd[] = {"t", "--even", "3", NULL};
    assert_int_equal(ts_cli_parse(&spec, 3, odd, &first), 2);
    char *range[] = {"t", "--int", "6", NULL};
    assert_int_equal(ts_cli_parse(&spec, 3, range, &first), 2);
    char *two[] = {"t", "a", "b", NULL};
    assert_int_equal(ts_cli_parse(&spec, 3, two, &first), 2);
    char *mem[] = {"t", "--mem-limit", "1G", NULL}; /* this command takes no --mem-limit */
    assert_int_equal(ts_cli_parse(&spec, 3, mem, &first), 2);
    spec.backend = NULL; /* nor, now, any backend flag */
    char *thr[] = {"t", "--threads", "1", NULL};
    assert_int_equal(ts_cli_parse(&spec, 3, thr, &first), 2);
    char *help[] = {"t", "--int", "1", "-h", NULL};
    assert_int_equal(ts_cli_parse(&spec, 4, help, &first), 0);
}

static void exit_codes(void **state) {
    (void)state;
    assert_int_equal(ts_exit_code(TS_OK), 0);
    assert_int_equal(ts_exit_code(TS_ERR), 1);
    assert_int_equal(ts_exit_code(TS_EDIVERGED), 1);
    assert_int_equal(ts_exit_code(TS_EUSAGE), 2);
    assert_int_equal(ts_exit_code(TS_ENOMEM), 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(train_options_land),   cmocka_unit_test(bad_train_values_exit_2),
        cmocka_unit_test(sweep_options_land),   cmocka_unit_test(numbers_are_whole_and_in_range),
        cmocka_unit_test(backend_flags_shared), cmocka_unit_test(table_parser),
        cmocka_unit_test(exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
