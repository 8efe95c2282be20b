/* lstm_split.c — see lstm_split.h. */
#include "backends/lstm_split.h"

#include <stdint.h>
#include <stdlib.h>

ts_lstm_split_plan ts_lstm_split_plan_for(int K) {
    const char *env = getenv("TUNESCALE_LSTM_SPLIT_K");
    int ks = env && atoi(env) > 0 ? atoi(env) : TS_LSTM_SPLIT_K;
    if (ks > K) ks = K;
    ts_lstm_split_plan pl = {ks, (K + ks - 1) / ks};
    if (pl.splits > TS_LSTM_SPLIT_MAX) {
        pl.ks = (K + TS_LSTM_SPLIT_MAX - 1) / TS_LSTM_SPLIT_MAX;
        pl.splits = (K + pl.ks - 1) / pl.ks;
    }
    return pl;
}

/* The kernels (and Vulkan's push constants) index with 32-bit words: refuse what does not fit
 * with a clear message rather than wrap. */
static int split_fits(ts_backend *be, const char *op, int T, int B, int H) {
    size_t most = (size_t)INT32_MAX, gates = (size_t)B * 4 * H;
    if (gates * TS_LSTM_SPLIT_MAX <= most && gates * T <= most && (size_t)4 * H * H <= most)
        return 1;
    ts_backend_fail(be, TS_ERR,
                    "%s (TUNESCALE_LSTM_PATH=split): T=%d B=%d H=%d is more than its kernels "
                    "index (2^31 floats); use a smaller batch or another path",
                    op, T, B, H);
    return 0;
}

void ts_lstm_split_forward(ts_backend *be, const ts_lstm_split_kernels *k, ts_tensor h, ts_tensor c,
                           ts_tensor act, ts_tensor pre, ts_tensor h0, ts_tensor c0, ts_tensor w_hh,
                           ts_tensor b_ih, ts_tensor b_hh, int T, int B, int H, int has_init) {
    if (!split_fits(be, "lstm_sequence_forward", T, B, H)) return;
    size_t BH = (size_t)B * H, B4H = 4 * BH;
    ts_lstm_split_plan pl = ts_lstm_split_plan_for(H);
    for (int t = 0; t < T && be->error == TS_OK; t++) {
        int has_prev = t > 0 || has_init;
        ts_tensor h_prev = t ? ts_view(h, (t - 1) * BH) : h0;
        ts_tensor c_prev = t ? ts_view(c, (t - 1) * BH) : c0;
        if (has_prev)
            k->partial(be, h_prev, H, w_hh, B, 4 * H, H, H, 1, pl);
        else
            c_prev = c; /* unread: any real buffer */
        k->cell_forward(be, ts_view(h, t * BH), ts_view(c, t * BH), ts_view(act, t * B4H),
                        ts_view(pre, t * B4H), c_prev, b_ih, b_hh, B, H, has_prev, pl.splits);
    }
}

void ts_lstm_split_backward(ts_backend *be, const ts_lstm_split_kernels *k, ts_tensor dpre,
                            ts_tensor dc, ts_tensor dh, ts_tensor w_hh, ts_tensor act, ts_tensor c,
                            ts_tensor c0, int T, int B, int H, int has_init) {
    if (!split_fits(be, "lstm_sequence_backward", T, B, H)) return;
    size_t BH = (size_t)B * H, B4H = 4 * BH;
    ts_lstm_split_plan pl = ts_lstm_split_plan_for(4 * H);
    /* dc_prev aliases dc, as on the fused steps: each element is read before it is written */
    for (int t = T - 1; t >= 0 && be->error == TS_OK; t--) {
        int has_prev = t > 0 || has_init;
        ts_tensor c_prev = t ? ts_view(c, (t - 1) * BH) : has_init ? c0 : c;
        k->cell_backward(be, ts_view(dpre, t * B4H), dc, ts_view(dh, t * BH), dc,
                         ts_view(act, t * B4H), ts_view(c, t * BH), c_prev, B, H, has_prev,
                         t < T - 1, pl.splits);
        /* dpre_t W_hh for step t-1's dh; step 0 has no predecessor */
        if (t > 0) k->partial(be, ts_view(dpre, t * B4H), 4 * H, w_hh, B, H, 4 * H, 1, H, pl);
    }
}
