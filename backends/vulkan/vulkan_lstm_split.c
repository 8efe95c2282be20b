/*
 * vulkan_lstm_split.c — the split-K sequence path on Vulkan (backends/lstm_split.h): the
 * partial products of shaders/lstm_split_partial.comp into the scratch buffer, and the cells of
 * shaders/lstm_split_forward/backward.comp (the fused step's *_items cells), two dispatches per
 * time step and direction.
 */
#include "backends/lstm_split.h"
#include "backends/lstm_variant.h"
#include "backends/vulkan/vulkan_internal.h"

#define NB(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define U(x)  ((uint32_t)(x))
/* outputs m per invocation of shaders/lstm_split_partial.comp (RM there) */
#define VK_LSTM_SPLIT_OUTS 4

/* The scratch holding `floats` partials, or NULL with the error recorded. */
static ts_buffer *partials(ts_backend *be, size_t floats) {
    return be->error == TS_OK ? vk_scratch(be, floats * sizeof(float)) : NULL;
}

static void partial(ts_backend *be, ts_tensor x, int ldx, ts_tensor w, int B, int M, int K, int sm,
                    int sk, ts_lstm_split_plan pl) {
    ts_buffer *part = partials(be, (size_t)pl.splits * B * M);
    if (!part) return;
    struct {
        uint32_t xo, wo, B, M, K, ks, ldx, sm, sk;
    } p = {U(x.off), U(w.off), U(B), U(M), U(K), U(pl.ks), U(ldx), U(sm), U(sk)};
    vk_arg args[] = {VK_WHOLE(part), VK_ARG(x.buf, p.xo, (size_t)(B - 1) * ldx + K),
                     VK_ARG(w.buf, p.wo, (size_t)M * K)};
    uint32_t per_group = vk_kernel_wg(vk_ctx_of(be), VK_K_lstm_split_partial) * VK_LSTM_SPLIT_OUTS;
    vk_dispatch(be, VK_K_lstm_split_partial, args, NB(args), &p, sizeof p,
                (U(M) + per_group - 1) / per_group,
                (U(B) + TS_LSTM_SPLIT_ROWS - 1) / TS_LSTM_SPLIT_ROWS, U(pl.splits));
}

static void cell_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                         ts_tensor c_prev, ts_tensor b_ih, ts_tensor b_hh, int B, int H,
                         int has_prev, int splits) {
    ts_buffer *part = partials(be, (size_t)splits * B * 4 * H);
    if (!part) return;
    size_t gates = (size_t)B * 4 * H, state = (size_t)B * H;
    /* lstm_step_forward_items.glsl's push constants; wo carries S, hpo is unused */
    struct {
        uint32_t ho, co, ao, po, hpo, cpo, wo, bio, bho, B, H, ld, has_prev;
    } p = {U(h.off),    U(c.off),    U(act.off), U(pre.off), 0,    U(c_prev.off),   U(splits),
           U(b_ih.off), U(b_hh.off), U(B),       U(H),       U(H), U(has_prev != 0)};
    vk_arg args[] = {VK_ARG(h.buf, p.ho, state),
                     VK_ARG(c.buf, p.co, state),
                     VK_ARG(act.buf, p.ao, gates),
                     VK_ARG(pre.buf, p.po, gates),
                     VK_WHOLE(part),
                     VK_ARG(c_prev.buf, p.cpo, state),
                     VK_WHOLE(part), /* W_hh's binding, unread */
                     VK_ARG(b_ih.buf, p.bio, 4 * (size_t)H),
                     VK_ARG(b_hh.buf, p.bho, 4 * (size_t)H)};
    vk_lstm_dispatch_items(be, VK_K_lstm_split_forward, args, NB(args), &p, sizeof p, B, H,
                           VK_LSTM_FWD_UNITS);
}

static void cell_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                          ts_tensor dc, ts_tensor act, ts_tensor c, ts_tensor c_prev, int B, int H,
                          int has_prev, int has_next, int splits) {
    ts_buffer *part = partials(be, (size_t)splits * B * H);
    if (!part) return;
    size_t gates = (size_t)B * 4 * H, state = (size_t)B * H;
    /* lstm_step_backward_items.glsl's push constants; wo carries S, dno is unused */
    struct {
        uint32_t dpo, dcpo, dho, dco, dno, wo, ao, co, cpo, B, H, ld, has_prev, has_next;
    } p = {U(dpre.off), U(dc_prev.off), U(dh.off),        U(dc.off),       0,
           U(splits),   U(act.off),     U(c.off),         U(c_prev.off),   U(B),
           U(H),        U(H),           U(has_prev != 0), U(has_next != 0)};
    vk_arg args[] = {VK_ARG(dpre.buf, p.dpo, gates),
                     VK_ARG(dc_prev.buf, p.dcpo, state),
                     VK_ARG(dh.buf, p.dho, state),
                     VK_ARG(dc.buf, p.dco, state),
                     VK_WHOLE(part),
                     VK_WHOLE(part), /* W_hh's binding, unread */
                     VK_ARG(act.buf, p.ao, gates),
                     VK_ARG(c.buf, p.co, state),
                     VK_ARG(c_prev.buf, p.cpo, state)};
    vk_lstm_dispatch_items(be, VK_K_lstm_split_backward, args, NB(args), &p, sizeof p, B, H,
                           VK_LSTM_BWD_UNITS);
}

static const ts_lstm_split_kernels kernels = {partial, cell_forward, cell_backward};

int vk_lstm_split_on(ts_backend *be, int H, const ts_lstm_split_kernels **k) {
    *k = &kernels;
    return ts_lstm_split_wanted(be, vk_ctx_of(be)->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU,
                                H);
}
