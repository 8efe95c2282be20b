/* lstm_variant.c — see lstm_variant.h. */
#include "backends/lstm_variant.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ts_lstm_step_tiled(int device_is_cpu) {
    /* read per launch, so a test can switch forms between cases */
    const char *env = getenv("TUNESCALE_LSTM_STEP");
    if (env && !strcmp(env, "tiled")) return 1;
    if (env && !strcmp(env, "items")) return 0;
    return !device_is_cpu;
}

ts_lstm_path_mode ts_lstm_path_mode_of(ts_backend *be) {
    const char *env = getenv("TUNESCALE_LSTM_PATH");
    if (!env || !*env) return TS_LSTM_PATH_AUTO;
    if (!strcmp(env, "persistent")) return TS_LSTM_PATH_PERSISTENT;
    if (!strcmp(env, "fused-step")) return TS_LSTM_PATH_FUSED_STEP;
    if (!strcmp(env, "split")) return TS_LSTM_PATH_SPLIT;
    ts_backend_fail(be, TS_EUSAGE,
                    "TUNESCALE_LSTM_PATH='%s' is not persistent, fused-step or split (unset it "
                    "to let the backend choose)",
                    env);
    return TS_LSTM_PATH_FUSED_STEP;
}

void ts_lstm_path_record(ts_backend *be, ts_lstm_path_mode path, const char *why, ...) {
    be->lstm_path = path == TS_LSTM_PATH_PERSISTENT ? "persistent"
                    : path == TS_LSTM_PATH_SPLIT    ? "split"
                                                    : "fused-step";
    va_list ap;
    va_start(ap, why);
    vsnprintf(be->lstm_why, sizeof be->lstm_why, why, ap);
    va_end(ap);
}

int ts_lstm_skip_residency(void) {
    const char *env = getenv("TUNESCALE_LSTM_UNSAFE");
    return env && !strcmp(env, "1");
}

int ts_lstm_persistent_wanted(ts_backend *be, const char *not_by_default) {
    ts_lstm_path_mode mode = ts_lstm_path_mode_of(be);
    if (be->error != TS_OK) return 0;
    if (mode == TS_LSTM_PATH_SPLIT) return 0; /* ts_lstm_split_wanted records it */
    if (mode == TS_LSTM_PATH_FUSED_STEP) {
        ts_lstm_path_record(be, TS_LSTM_PATH_FUSED_STEP, "off (TUNESCALE_LSTM_PATH=fused-step)");
        return 0;
    }
    if (mode == TS_LSTM_PATH_AUTO && not_by_default) {
        ts_lstm_path_record(be, TS_LSTM_PATH_FUSED_STEP, "%s", not_by_default);
        return 0;
    }
    return 1;
}

int ts_lstm_persistent_decide(ts_backend *be, int ok, const char *why) {
    if (be->error != TS_OK) return 0;
    if (!ok && ts_lstm_path_mode_of(be) == TS_LSTM_PATH_PERSISTENT) {
        ts_backend_fail(be, TS_ERR, "TUNESCALE_LSTM_PATH=persistent: refused on this device: %s",
                        why);
        return 0;
    }
    ts_lstm_path_record(be, ok ? TS_LSTM_PATH_PERSISTENT : TS_LSTM_PATH_FUSED_STEP, "%s", why);
    return ok;
}

int ts_lstm_split_wanted(ts_backend *be, int device_is_cpu, int H) {
    ts_lstm_path_mode mode = ts_lstm_path_mode_of(be);
    if (be->error != TS_OK) return 0;
    if (mode == TS_LSTM_PATH_SPLIT) {
        ts_lstm_path_record(be, TS_LSTM_PATH_SPLIT, "forced (TUNESCALE_LSTM_PATH=split)");
        return 1;
    }
    if (mode != TS_LSTM_PATH_AUTO || device_is_cpu || H < TS_LSTM_SPLIT_MIN_H) return 0;
    /* keep the persistent kernel's refusal: it is why this path runs */
    char was[sizeof be->lstm_why];
    snprintf(was, sizeof was, "%s", be->lstm_why);
    ts_lstm_path_record(be, TS_LSTM_PATH_SPLIT, "H=%d >= %d on a GPU device; persistent: %.200s", H,
                        TS_LSTM_SPLIT_MIN_H, was);
    return 1;
}
