/*
 * test_util.h — fixtures shared by the CMocka tests (header-only: each test is one program).
 *
 * tmp_setup / tmp_teardown: each test that needs files gets a fresh mkdtemp folder as its CMocka
 * state; the teardown removes it even when the test fails.
 */
#ifndef TS_TESTS_TEST_UTIL_H
#define TS_TESTS_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"

static inline int tmp_setup(void **state) {
    char tmpl[] = "/tmp/ts_test_XXXXXX";
    if (!mkdtemp(tmpl)) return -1;
    *state = strdup(tmpl);
    return *state ? 0 : -1;
}

static inline int tmp_teardown(void **state) {
    ts_remove_tree(*state);
    free(*state);
    return 0;
}

#endif
