/* test_error.c — the last-error message: wrapping the previous message in a new one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "util/error.h"

/* ts_set_error("%s: %s", where, ts_last_error()) reads the buffer it writes: it must still
 * give the whole wrapped message (it once came out garbled). */
static void wraps_previous_message(void **state) {
    (void)state;
    ts_set_error("model %s: d_model %d is not a multiple of n_heads %d", "x", 30, 4);
    ts_set_error("%s: %s", "preset.json: models[0]", ts_last_error());
    assert_string_equal(ts_last_error(),
                        "preset.json: models[0]: model x: d_model 30 is not a multiple of "
                        "n_heads 4");
    assert_int_equal(ts_set_error_status(TS_EUSAGE, "%s!", ts_last_error()), TS_EUSAGE);
    assert_true(strstr(ts_last_error(), "n_heads 4!") != NULL);
}

static void long_messages_are_cut_not_overrun(void **state) {
    (void)state;
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ts_set_error("%s", big);
    assert_int_equal(strlen(ts_last_error()), 1023);
    ts_set_error("%s/%s", ts_last_error(), "tail");
    assert_int_equal(strlen(ts_last_error()), 1023);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wraps_previous_message),
        cmocka_unit_test(long_messages_are_cut_not_overrun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
