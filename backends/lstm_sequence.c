/* lstm_sequence.c — see lstm_sequence.h. */
#include "backends/lstm_sequence.h"

void ts_lstm_sequence_forward_steps(ts_backend *be, ts_lstm_step_forward_fn step, ts_tensor h,
                                    ts_tensor c, ts_tensor act, ts_tensor pre, ts_tensor h0,
                                    ts_tensor c0, ts_tensor w_hh, ts_tensor b_ih, ts_tensor b_hh,
                                    int T, int B, int H, int has_init) {
    size_t BH = (size_t)B * H, B4H = 4 * BH;
    for (int t = 0; t < T && be->error == TS_OK; t++) {
        ts_tensor h_prev = t ? ts_view(h, (t - 1) * BH) : h0;
        ts_tensor c_prev = t ? ts_view(c, (t - 1) * BH) : c0;
        step(be, ts_view(h, t * BH), ts_view(c, t * BH), ts_view(act, t * B4H),
             ts_view(pre, t * B4H), h_prev, c_prev, w_hh, b_ih, b_hh, B, H, H, t > 0 || has_init);
    }
}

void ts_lstm_sequence_backward_steps(ts_backend *be, ts_lstm_step_backward_fn step, ts_tensor dpre,
                                     ts_tensor dc, ts_tensor dh, ts_tensor w_hh, ts_tensor act,
                                     ts_tensor c, ts_tensor c0, int T, int B, int H, int has_init) {
    size_t BH = (size_t)B * H, B4H = 4 * BH;
    ts_tensor none = {NULL, 0};
    /* dc_prev aliases dc (the step op allows it): each element is read before it is written */
    for (int t = T - 1; t >= 0 && be->error == TS_OK; t--) {
        int next = t < T - 1;
        step(be, ts_view(dpre, t * B4H), dc, ts_view(dh, t * BH), dc,
             next ? ts_view(dpre, (t + 1) * B4H) : none, w_hh, ts_view(act, t * B4H),
             ts_view(c, t * BH), t ? ts_view(c, (t - 1) * BH) : c0, B, H, H, t > 0 || has_init,
             next);
    }
}
