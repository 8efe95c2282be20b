/*
 * lstm_path.c — which recurrent path an LSTM step runs, for `bench step` to report.
 *
 * Today every backend runs "fused-step": one lstm_step_forward launch per time step and one
 * lstm_step_backward, with dW_hh as one GEMM after the time loop. A persistent recurrent
 * kernel (W_hh held on chip across steps, one device-wide sync per step) is not built: it is
 * only safe where every work-group is resident at once, which this project cannot yet check
 * or test (PoCL and lavapipe run work-groups in turn, where such a kernel would hang).
 */
#include "model/model.h"

const char *ts_lstm_path(const ts_model *m, const char **why_not_persistent) {
    if (why_not_persistent)
        *why_not_persistent = m->cfg.family == TS_LSTM
                                  ? "not built: needs every work-group resident at once, which "
                                    "cannot be verified or tested on this project's devices yet"
                                  : NULL;
    return m->cfg.family == TS_LSTM ? "fused-step" : NULL;
}
