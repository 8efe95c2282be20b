/*
 * vulkan_attention.c — the host side of the fused causal attention
 * (shaders/attention_flash_*.comp): the device's own limits, then one forward
 * dispatch, or three backward dispatches (row sums delta, dq over key tiles, dk and dv over
 * query tiles; no atomics, so every sum has a fixed order).
 */
#include "backends/vulkan/vulkan_internal.h"

#include <math.h>

#define NB(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define U(x)  ((uint32_t)(x))

/* struct ts_att_mask in shaders/attention_flash.glsl */
typedef struct {
    uint32_t drop_on;
    ts_dropout_words d; /* thr, dscale, the key */
} att_mask;

/* The device's own limits (the frontend checked head size and p); 0 when the op must not run. */
static int prepare(ts_backend *be, const char *op, int BH, int T, float p, ts_dropout_key key,
                   att_mask *m) {
    if (be->error != TS_OK || BH <= 0 || T <= 0) return 0;
    /* The shaders index the maps' elements (and the mask's global indices) in 32 bits. */
    uint64_t n = (uint64_t)BH * T * T, last = n - 1;
    if (key.span) last = (last / key.span) * key.stride + last % key.span;
    if (n > UINT32_MAX || (p > 0.0f && key.offset + last > UINT32_MAX)) {
        vk_fail(be, 0, "%s: %d maps of %d x %d are past the shaders' 32-bit index", op, BH, T, T);
        return 0;
    }
    uint32_t tiles = (uint32_t)(((size_t)T + VK_ATT_TILE - 1) / VK_ATT_TILE);
    if (tiles > vk_ctx_of(be)->max_groups || (uint32_t)BH > vk_ctx_of(be)->max_groups) {
        vk_fail(be, 0, "%s: a grid of %u x %d work-groups is past the device's limit", op, tiles,
                BH);
        return 0;
    }
    *m = (att_mask){p > 0.0f, ts_dropout_words_of(p, key)};
    return 1;
}

/* one work-group of VK_ATT_TILE items per (row tile, pair) */
static void dispatch_tiles(ts_backend *be, vk_kernel_id id, const vk_arg *args, int nargs,
                           const void *push, size_t push_bytes, int BH, int T) {
    uint32_t tiles = (uint32_t)(((size_t)T + VK_ATT_TILE - 1) / VK_ATT_TILE);
    vk_dispatch(be, id, args, nargs, push, push_bytes, tiles, (uint32_t)BH, 1);
}

void vk_attention_forward(ts_backend *be, ts_tensor out, ts_tensor lse, ts_tensor q, ts_tensor k,
                          ts_tensor v, int BH, int T, int HS, float scale, float p,
                          ts_dropout_key key) {
    const char *op = "attention_forward";
    att_mask m;
    if (!prepare(be, op, BH, T, p, key, &m)) return;
    size_t n = (size_t)BH * T * HS, rows = (size_t)BH * T;
    struct {
        uint32_t oo, lo, qo, ko, vo, T, HS;
        float scale;
        att_mask m;
    } pc = {U(out.off), U(lse.off), U(q.off), U(k.off), U(v.off), U(T), U(HS), scale, m};
    vk_arg args[] = {VK_ARG(out.buf, pc.oo, n), VK_ARG(lse.buf, pc.lo, rows),
                     VK_ARG(q.buf, pc.qo, n), VK_ARG(k.buf, pc.ko, n), VK_ARG(v.buf, pc.vo, n)};
    dispatch_tiles(be, VK_K_attention_forward, args, NB(args), &pc, sizeof pc, BH, T);
}

void vk_attention_backward(ts_backend *be, ts_tensor dq, ts_tensor dk, ts_tensor dv,
                           ts_tensor delta, ts_tensor dout, ts_tensor out, ts_tensor q, ts_tensor k,
                           ts_tensor v, ts_tensor lse, int BH, int T, int HS, float scale, float p,
                           ts_dropout_key key) {
    const char *op = "attention_backward";
    att_mask m;
    if (!prepare(be, op, BH, T, p, key, &m)) return;
    size_t n = (size_t)BH * T * HS, rows = (size_t)BH * T;
    struct {
        uint32_t dlo, dyo, oo, rows, HS;
    } pd = {U(delta.off), U(dout.off), U(out.off), U(rows), U(HS)};
    vk_arg dargs[] = {VK_ARG(delta.buf, pd.dlo, rows), VK_ARG(dout.buf, pd.dyo, n),
                      VK_ARG(out.buf, pd.oo, n)};
    vk_dispatch_items(be, VK_K_attention_delta, dargs, NB(dargs), &pd, sizeof pd, rows);
    struct {
        uint32_t dqo, dyo, qo, ko, vo, lo, dlo, T, HS;
        float scale;
        att_mask m;
    } pq = {U(dq.off),    U(dout.off), U(q.off), U(k.off), U(v.off), U(lse.off),
            U(delta.off), U(T),        U(HS),    scale,    m};
    vk_arg qargs[] = {VK_ARG(dq.buf, pq.dqo, n),      VK_ARG(dout.buf, pq.dyo, n),
                      VK_ARG(q.buf, pq.qo, n),        VK_ARG(k.buf, pq.ko, n),
                      VK_ARG(v.buf, pq.vo, n),        VK_ARG(lse.buf, pq.lo, rows),
                      VK_ARG(delta.buf, pq.dlo, rows)};
    dispatch_tiles(be, VK_K_attention_backward_dq, qargs, NB(qargs), &pq, sizeof pq, BH, T);
    struct {
        uint32_t dko, dvo, dyo, qo, ko, vo, lo, dlo, T, HS;
        float scale;
        att_mask m;
    } pk = {U(dk.off),  U(dv.off),    U(dout.off), U(q.off), U(k.off), U(v.off),
            U(lse.off), U(delta.off), U(T),        U(HS),    scale,    m};
    vk_arg kargs[] = {VK_ARG(dk.buf, pk.dko, n),    VK_ARG(dv.buf, pk.dvo, n),
                      VK_ARG(dout.buf, pk.dyo, n),  VK_ARG(q.buf, pk.qo, n),
                      VK_ARG(k.buf, pk.ko, n),      VK_ARG(v.buf, pk.vo, n),
                      VK_ARG(lse.buf, pk.lo, rows), VK_ARG(delta.buf, pk.dlo, rows)};
    dispatch_tiles(be, VK_K_attention_backward_dkdv, kargs, NB(kargs), &pk, sizeof pk, BH, T);
}
