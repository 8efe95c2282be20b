/*
 * vulkan_lstm.c — host side of the fused LSTM time step (shaders/lstm_step_*.comp): one
 * dispatch per step forward and one backward. GPUs run the tiled forward and one item per
 * (batch row, hidden unit) backward; CPU devices (lavapipe) run the *_items forms, where an
 * invocation owns a block of units by batch rows, with vec4 loads when the views allow. Views
 * the shader will not read (h_prev/c_prev without has_prev, dc/dpre_next without has_next)
 * may be empty in the call; a view that is read is bound in their place.
 */
#include "backends/vulkan/vulkan_internal.h"
#include "backends/lstm_variant.h"

#define NB(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define U(x)  ((uint32_t)(x))

static int lstm_step_tiled(ts_backend *be) {
    return ts_lstm_step_tiled(vk_ctx_of(be)->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU);
}

static int all_mult4(const uint32_t *v, int n) {
    for (int i = 0; i < n; i++)
        if (v[i] % 4) return 0;
    return 1;
}

void vk_lstm_dispatch_items(ts_backend *be, vk_kernel_id id, const vk_arg *args, int nargs,
                            const void *push, size_t push_bytes, int B, int H, uint32_t units) {
    uint32_t per_group = U(vk_kernel_wg(vk_ctx_of(be), id)) * units;
    vk_dispatch(be, id, args, nargs, push, push_bytes, (U(H) + per_group - 1) / per_group,
                (U(B) + VK_LSTM_ITEMS_ROWS - 1) / VK_LSTM_ITEMS_ROWS, 1);
}

void vk_lstm_step_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                          ts_tensor h_prev, ts_tensor c_prev, ts_tensor w_hh, ts_tensor b_ih,
                          ts_tensor b_hh, int B, int H, int ld_state, int has_prev) {
    if (B <= 0 || H <= 0) return;
    if (!has_prev) h_prev = h, c_prev = c;
    /* a work-group: VK_WG / bt hidden units by bt batch rows (shaders/lstm_step_forward.comp) */
    uint32_t bt = 2;
    while (bt < (uint32_t)B && bt < 16)
        bt *= 2;
    size_t gates = (size_t)B * 4 * H, state = (size_t)(B - 1) * ld_state + (size_t)H;
    struct {
        uint32_t ho, co, ao, po, hpo, cpo, wo, bio, bho, B, H, ld, has_prev, UT;
    } p = {U(h.off),      U(c.off),    U(act.off),       U(pre.off),   U(h_prev.off),
           U(c_prev.off), U(w_hh.off), U(b_ih.off),      U(b_hh.off),  U(B),
           U(H),          U(ld_state), U(has_prev != 0), U(VK_WG / bt)};
    vk_arg args[] = {VK_ARG(h.buf, p.ho, state),
                     VK_ARG(c.buf, p.co, state),
                     VK_ARG(act.buf, p.ao, gates),
                     VK_ARG(pre.buf, p.po, gates),
                     VK_ARG(h_prev.buf, p.hpo, state),
                     VK_ARG(c_prev.buf, p.cpo, state),
                     VK_ARG(w_hh.buf, p.wo, (size_t)4 * H * H),
                     VK_ARG(b_ih.buf, p.bio, (size_t)4 * H),
                     VK_ARG(b_hh.buf, p.bho, (size_t)4 * H)};
    if (!lstm_step_tiled(be)) { /* the shaders' push constants end before UT */
        /* vec4 loads along k need every row the product reads to start at a multiple of 4 */
        uint32_t at[] = {p.H, p.ld, p.hpo, p.wo};
        vk_kernel_id id =
            all_mult4(at, NB(at)) ? VK_K_lstm_step_forward_items4 : VK_K_lstm_step_forward_items;
        vk_lstm_dispatch_items(be, id, args, NB(args), &p, sizeof p, B, H, VK_LSTM_FWD_UNITS);
        return;
    }
    vk_dispatch(be, VK_K_lstm_step_forward, args, NB(args), &p, sizeof p, (U(H) + p.UT - 1) / p.UT,
                (U(B) + bt - 1) / bt, 1);
}

void vk_lstm_step_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                           ts_tensor dc, ts_tensor dpre_next, ts_tensor w_hh, ts_tensor act,
                           ts_tensor c, ts_tensor c_prev, int B, int H, int ld_state, int has_prev,
                           int has_next) {
    if (B <= 0 || H <= 0) return;
    if (!has_prev) c_prev = c;
    if (!has_next) dc = dh, dpre_next = act;
    size_t gates = (size_t)B * 4 * H, state = (size_t)(B - 1) * ld_state + (size_t)H;
    struct {
        uint32_t dpo, dcpo, dho, dco, dno, wo, ao, co, cpo, B, H, ld, has_prev, has_next;
    } p = {U(dpre.off), U(dc_prev.off), U(dh.off),        U(dc.off),       U(dpre_next.off),
           U(w_hh.off), U(act.off),     U(c.off),         U(c_prev.off),   U(B),
           U(H),        U(ld_state),    U(has_prev != 0), U(has_next != 0)};
    vk_arg args[] = {VK_ARG(dpre.buf, p.dpo, gates),      VK_ARG(dc_prev.buf, p.dcpo, state),
                     VK_ARG(dh.buf, p.dho, state),        VK_ARG(dc.buf, p.dco, state),
                     VK_ARG(dpre_next.buf, p.dno, gates), VK_ARG(w_hh.buf, p.wo, (size_t)4 * H * H),
                     VK_ARG(act.buf, p.ao, gates),        VK_ARG(c.buf, p.co, state),
                     VK_ARG(c_prev.buf, p.cpo, state)};
    if (!lstm_step_tiled(be)) {
        uint32_t at[] = {p.H, p.dno, p.wo}; /* as in the forward */
        vk_kernel_id id =
            all_mult4(at, NB(at)) ? VK_K_lstm_step_backward_items4 : VK_K_lstm_step_backward_items;
        vk_lstm_dispatch_items(be, id, args, NB(args), &p, sizeof p, B, H,
                               id == VK_K_lstm_step_backward_items4 ? 2 * VK_LSTM_BWD_UNITS
                                                                    : VK_LSTM_BWD_UNITS);
        return;
    }
    vk_dispatch_items(be, VK_K_lstm_step_backward, args, NB(args), &p, sizeof p, (size_t)B * H);
}
