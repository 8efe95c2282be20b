/*
 * lstm_path.c — which recurrent path an LSTM step ran, for `bench step` to report.
 *
 * The sequence ops (ops.def: lstm_sequence_forward/backward) record on the backend the path
 * they took: "fused-step" (one lstm_step launch per time step; the cpu's only form),
 * "persistent" (one launch per layer and direction, a device-wide barrier between steps) or
 * "split" (split-K: a partial-product and a cell launch per time step), and why
 * (backends/lstm_variant.h says when a backend takes which).
 */
#include "model/model.h"

const char *ts_lstm_path(const ts_model *m, const char **why_not_persistent) {
    const ts_backend *be = m->be;
    int lstm = m->cfg.family == TS_LSTM;
    if (why_not_persistent)
        *why_not_persistent = !lstm ? NULL : be->lstm_path ? be->lstm_why : "no step has run yet";
    return !lstm ? NULL : be->lstm_path ? be->lstm_path : "fused-step";
}
