/*
 * vulkan_attention.c — the host side of the fused causal attention
 * (shaders/attention_flash_*.comp): the device's own limits, then one forward
 * dispatch, or three backward dispatches (row sums delta, dq over key tiles, dk and dv over
 * query tiles; no atomics, so every sum has a fixed order).
 * --precision fp16 is a specialization constant of the four shaders: their products
 * read inputs rounded to half (attention_flash.glsl); tf32 and bf16 never get here
 * (vk_precision_pick refuses them).
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

/* What every dispatch of an attention op binds: the mask, and the element counts of the
 * (BH, T, HS) tensors and the (BH, T) row statistics. */
typedef struct {
    att_mask m;
    size_t n, rows;
} att_plan;

uint32_t vk_attention_spec(const ts_backend *be, vk_kernel_id id, uint32_t *spec) {
    if (id != VK_K_attention_forward && id != VK_K_attention_delta &&
        id != VK_K_attention_backward_dq && id != VK_K_attention_backward_dkdv)
        return 0;
    spec[1] = be->precision == TS_PREC_FP16;
    return 2;
}

/* The device's own limits (the frontend checked head size and p); 0 when the op must not run. */
static int prepare(ts_backend *be, const char *op, int BH, int T, int HS, float p,
                   ts_dropout_key key, att_plan *a) {
    if (be->error != TS_OK || BH <= 0 || T <= 0) return 0;
    if (be->precision != TS_PREC_FP32 && be->precision != TS_PREC_FP16) { /* never silently */
        vk_fail(be, 0, "%s: no --precision %s shaders", op, ts_precision_name(be->precision));
        return 0;
    }
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
    a->m = (att_mask){p > 0.0f, ts_dropout_words_of(p, key)};
    a->n = (size_t)BH * T * HS;
    a->rows = (size_t)BH * T;
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
    att_plan a;
    if (!prepare(be, "attention_forward", BH, T, HS, p, key, &a)) return;
    struct {
        uint32_t oo, lo, qo, ko, vo, T, HS;
        float scale;
        att_mask m;
    } pc = {U(out.off), U(lse.off), U(q.off), U(k.off), U(v.off), U(T), U(HS), scale, a.m};
    vk_arg args[] = {VK_ARG(out.buf, pc.oo, a.n), VK_ARG(lse.buf, pc.lo, a.rows),
                     VK_ARG(q.buf, pc.qo, a.n), VK_ARG(k.buf, pc.ko, a.n),
                     VK_ARG(v.buf, pc.vo, a.n)};
    dispatch_tiles(be, VK_K_attention_forward, args, NB(args), &pc, sizeof pc, BH, T);
}

void vk_attention_backward(ts_backend *be, ts_tensor dq, ts_tensor dk, ts_tensor dv,
                           ts_tensor delta, ts_tensor dout, ts_tensor out, ts_tensor q, ts_tensor k,
                           ts_tensor v, ts_tensor lse, int BH, int T, int HS, float scale, float p,
                           ts_dropout_key key) {
    att_plan a;
    if (!prepare(be, "attention_backward", BH, T, HS, p, key, &a)) return;
    struct {
        uint32_t dlo, dyo, oo, rows, HS;
    } pd = {U(delta.off), U(dout.off), U(out.off), U(a.rows), U(HS)};
    vk_arg dargs[] = {VK_ARG(delta.buf, pd.dlo, a.rows), VK_ARG(dout.buf, pd.dyo, a.n),
                      VK_ARG(out.buf, pd.oo, a.n)};
    vk_dispatch_items(be, VK_K_attention_delta, dargs, NB(dargs), &pd, sizeof pd, a.rows);
    struct {
        uint32_t dqo, dyo, qo, ko, vo, lo, dlo, T, HS;
        float scale;
        att_mask m;
    } pq = {U(dq.off),    U(dout.off), U(q.off), U(k.off), U(v.off), U(lse.off),
            U(delta.off), U(T),        U(HS),    scale,    a.m};
    vk_arg qargs[] = {VK_ARG(dq.buf, pq.dqo, a.n),      VK_ARG(dout.buf, pq.dyo, a.n),
                      VK_ARG(q.buf, pq.qo, a.n),        VK_ARG(k.buf, pq.ko, a.n),
                      VK_ARG(v.buf, pq.vo, a.n),        VK_ARG(lse.buf, pq.lo, a.rows),
                      VK_ARG(delta.buf, pq.dlo, a.rows)};
    dispatch_tiles(be, VK_K_attention_backward_dq, qargs, NB(qargs), &pq, sizeof pq, BH, T);
    struct {
        uint32_t dko, dvo, dyo, qo, ko, vo, lo, dlo, T, HS;
        float scale;
        att_mask m;
    } pk = {U(dk.off),  U(dv.off),    U(dout.off), U(q.off), U(k.off), U(v.off),
            U(lse.off), U(delta.off), U(T),        U(HS),    scale,    a.m};
    vk_arg kargs[] = {VK_ARG(dk.buf, pk.dko, a.n),    VK_ARG(dv.buf, pk.dvo, a.n),
                      VK_ARG(dout.buf, pk.dyo, a.n),  VK_ARG(q.buf, pk.qo, a.n),
                      VK_ARG(k.buf, pk.ko, a.n),      VK_ARG(v.buf, pk.vo, a.n),
                      VK_ARG(lse.buf, pk.lo, a.rows), VK_ARG(delta.buf, pk.dlo, a.rows)};
    dispatch_tiles(be, VK_K_attention_backward_dkdv, kargs, NB(kargs), &pk, sizeof pk, BH, T);
}
