/*
 * lstm_selftest.h — the one-time check a GPU backend runs before it trusts its persistent LSTM
 * kernel (backends/lstm_variant.h): a small problem with the real number of work-groups, run by
 * the persistent kernel and by the backend's fused step kernels, must finish with the
 * device-wide barrier's failure flag clear and agree. It waits for the device.
 */
#ifndef TS_BACKENDS_LSTM_SELFTEST_H
#define TS_BACKENDS_LSTM_SELFTEST_H

#include "backends/lstm_sequence.h"

typedef struct {
    void *ctx; /* handed back to the callbacks */
    /* The persistent kernel with `units` hidden units per group over H hidden units (H =
     * units * groups); each returns the failure flag after waiting for the device (nonzero:
     * the barrier timed out). */
    int (*forward)(ts_backend *be, void *ctx, int units, ts_tensor h, ts_tensor c, ts_tensor act,
                   ts_tensor pre, ts_tensor h0, ts_tensor c0, ts_tensor w_hh, ts_tensor b_ih,
                   ts_tensor b_hh, int T, int B, int H, int has_init);
    int (*backward)(ts_backend *be, void *ctx, int units, ts_tensor dpre, ts_tensor dc,
                    ts_tensor dh, ts_tensor w_hh, ts_tensor act, ts_tensor c, ts_tensor c0, int T,
                    int B, int H, int has_init);
    ts_lstm_step_forward_fn step_forward; /* the backend's fused steps: the reference */
    ts_lstm_step_backward_fn step_backward;
    void (*copy)(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n);
} ts_lstm_persistent_kernel;

/* 1 when the kernel passed with `groups` groups; else 0 with the reason in why. */
int ts_lstm_persistent_self_test(ts_backend *be, const ts_lstm_persistent_kernel *k, int groups,
                                 char *why, size_t cap);

/* The verdict of a backend's self-test, kept for the group count it was run with. */
typedef struct {
    int tested_for; /* groups; 0: not yet */
    int passed;
    char why[200];
} ts_lstm_verdict;

/* Runs the self-test unless v holds a verdict for `groups`; a refusal is said once on stderr
 * (`api` names the backend). Returns v->passed. */
int ts_lstm_persistent_checked(ts_backend *be, ts_lstm_verdict *v,
                               const ts_lstm_persistent_kernel *k, int groups, const char *api);

/*
 * The self-test's callbacks for a backend, expanded next to what they need in scope (state:
 * its kernel state type): persistent_plan, persistent_forward/backward (as for
 * TS_LSTM_SEQUENCE_OPS) and
 *   static persistent_plan test_plan(const persistent_plan *real, int units, int H);
 *   static int read_flag(ts_backend *be, state *st);  -- the failure flag (waits)
 * Defines test_ctx (the callbacks' ctx: {st, the real plan}) and test_forward/test_backward.
 */
#define TS_LSTM_SELF_TEST_HOOKS(state)                                                             \
    typedef struct {                                                                               \
        state *st;                                                                                 \
        persistent_plan plan;                                                                      \
    } test_ctx;                                                                                    \
    static int test_forward(ts_backend *be, void *ctx, int units, ts_tensor h, ts_tensor c,        \
                            ts_tensor act, ts_tensor pre, ts_tensor h0, ts_tensor c0,              \
                            ts_tensor w_hh, ts_tensor b_ih, ts_tensor b_hh, int T, int B, int H,   \
                            int has_init) {                                                        \
        test_ctx *t = ctx;                                                                         \
        persistent_plan pl = test_plan(&t->plan, units, H);                                        \
        persistent_forward(be, t->st, &pl, h, c, act, pre, h0, c0, w_hh, b_ih, b_hh, T, B, H,      \
                           has_init);                                                              \
        return read_flag(be, t->st);                                                               \
    }                                                                                              \
    static int test_backward(ts_backend *be, void *ctx, int units, ts_tensor dpre, ts_tensor dc,   \
                             ts_tensor dh, ts_tensor w_hh, ts_tensor act, ts_tensor c,             \
                             ts_tensor c0, int T, int B, int H, int has_init) {                    \
        test_ctx *t = ctx;                                                                         \
        persistent_plan pl = test_plan(&t->plan, units, H);                                        \
        persistent_backward(be, t->st, &pl, dpre, dc, dh, w_hh, act, c, c0, T, B, H, has_init);    \
        return read_flag(be, t->st);                                                               \
    }

#endif
