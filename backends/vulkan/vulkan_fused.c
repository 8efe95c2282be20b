/*
 * vulkan_fused.c — the host side of the fused ops (shaders/residual_layernorm_forward.comp,
 * layernorm_backward_dropout, bias_gelu_dropout_forward, gelu_dropout_backward_bias,
 * crossentropy_fused): one dispatch each. Each push-constant struct mirrors its shader's `P`
 * block member for member; the dropout scalars (fused_drop.glsl) come last.
 */
#include "backends/vulkan/vulkan_internal.h"


#define NB(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define U(x)  ((uint32_t)(x))

/* fused_drop.glsl's TS_DROP_FIELDS are dropout_forward's scalars (ts_dropout_words). */
typedef ts_dropout_words drop_pc;

/* The scalars, or 0 with an error when a slice's global index passes the shader's 32 bits
 * (the check dropout_forward makes). */
static int drop_fields(ts_backend *be, const char *op, size_t n, float p, ts_dropout_key key,
                       drop_pc *d) {
    uint64_t g_last =
        key.span ? key.offset + (uint64_t)((n - 1) / key.span) * key.stride + (n - 1) % key.span
                 : key.offset + n - 1;
    if (p > 0.0f && g_last > UINT32_MAX) {
        vk_fail(be, 0, "%s: dropout element %llu is past the shader's 32-bit index", op,
                (unsigned long long)g_last);
        return 0;
    }
    *d = ts_dropout_words_of(p, key);
    return 1;
}

void vk_residual_layernorm_forward(ts_backend *be, ts_tensor sum, ts_tensor out, ts_tensor mean,
                                   ts_tensor rstd, ts_tensor x, ts_tensor r, ts_tensor rbias,
                                   ts_tensor weight, ts_tensor bias, int N, int C, float eps,
                                   float p, ts_dropout_key key) {
    if (N <= 0 || C <= 0) return;
    size_t nc = (size_t)N * C;
    struct {
        uint32_t so, oo, mo, ro, xo, rro, rbo, wo, bo, N, C;
        float eps;
        drop_pc d;
    } pc = {U(sum.off),    U(out.off),  U(mean.off), U(rstd.off), U(x.off), U(r.off), U(rbias.off),
            U(weight.off), U(bias.off), U(N),        U(C),        eps,      {0}};
    if (!drop_fields(be, "residual_layernorm_forward", nc, p, key, &pc.d)) return;
    vk_arg args[] = {VK_ARG(sum.buf, pc.so, nc),
                     VK_ARG(out.buf, pc.oo, nc),
                     VK_ARG(mean.buf, pc.mo, (size_t)N),
                     VK_ARG(rstd.buf, pc.ro, (size_t)N),
                     VK_ARG(x.buf, pc.xo, nc),
                     VK_ARG(r.buf, pc.rro, nc),
                     VK_ARG(rbias.buf, pc.rbo, (size_t)C),
                     VK_ARG(weight.buf, pc.wo, (size_t)C),
                     VK_ARG(bias.buf, pc.bo, (size_t)C)};
    vk_dispatch_items(be, VK_K_residual_layernorm_forward, args, NB(args), &pc, sizeof pc,
                      (size_t)N * vk_kernel_wg(vk_ctx_of(be), VK_K_residual_layernorm_forward));
}

void vk_layernorm_backward_dropout(ts_backend *be, ts_tensor dinp, ts_tensor ddrop,
                                   ts_tensor dweight, ts_tensor dbias, ts_tensor dout,
                                   ts_tensor inp, ts_tensor weight, ts_tensor mean, ts_tensor rstd,
                                   int N, int C, float p, ts_dropout_key key) {
    if (N <= 0 || C <= 0) return;
    size_t nc = (size_t)N * C;
    size_t wg = vk_kernel_wg(vk_ctx_of(be), VK_K_layernorm_backward_dropout);
    struct {
        uint32_t dxo, ddo, dwo, dbo, dyo, xo, wo, mo, ro, N, C, colsum_rows;
        drop_pc d;
    } pc = {U(dinp.off), U(ddrop.off), U(dweight.off), U(dbias.off),
            U(dout.off), U(inp.off),   U(weight.off),  U(mean.off),
            U(rstd.off), U(N),         U(C),           VK_COLSUM_ROWS,
            {0}};
    if (!drop_fields(be, "layernorm_backward_dropout", nc, p, key, &pc.d)) return;
    vk_arg args[] = {VK_ARG(dinp.buf, pc.dxo, nc),           VK_ARG(ddrop.buf, pc.ddo, nc),
                     VK_ARG(dweight.buf, pc.dwo, (size_t)C), VK_ARG(dbias.buf, pc.dbo, (size_t)C),
                     VK_ARG(dout.buf, pc.dyo, nc),           VK_ARG(inp.buf, pc.xo, nc),
                     VK_ARG(weight.buf, pc.wo, (size_t)C),   VK_ARG(mean.buf, pc.mo, (size_t)N),
                     VK_ARG(rstd.buf, pc.ro, (size_t)N)};
    /* N row groups, then the column groups */
    vk_dispatch_items(be, VK_K_layernorm_backward_dropout, args, NB(args), &pc, sizeof pc,
                      ((size_t)N + ((size_t)C + wg - 1) / wg) * wg);
}

void vk_bias_gelu_dropout_forward(ts_backend *be, ts_tensor g, ts_tensor h, ts_tensor bias,
                                  int rows, int cols, int add_bias, float p, ts_dropout_key key) {
    size_t n = (size_t)rows * cols;
    if (n == 0) return;
    struct {
        uint32_t go, ho, bo, rows, cols;
        int32_t add_bias;
        drop_pc d;
    } pc = {U(g.off), U(h.off), U(bias.off), U(rows), U(cols), add_bias, {0}};
    if (!drop_fields(be, "bias_gelu_dropout_forward", n, p, key, &pc.d)) return;
    vk_arg args[] = {VK_ARG(g.buf, pc.go, n), VK_ARG(h.buf, pc.ho, n),
                     VK_ARG(bias.buf, pc.bo, (size_t)cols)};
    vk_dispatch_items(be, VK_K_bias_gelu_dropout_forward, args, NB(args), &pc, sizeof pc, n);
}

void vk_gelu_dropout_backward_bias(ts_backend *be, ts_tensor dh, ts_tensor dbias, ts_tensor dg,
                                   ts_tensor h, int rows, int cols, float p, ts_dropout_key key) {
    size_t n = (size_t)rows * cols;
    if (n == 0) return;
    size_t wg = vk_kernel_wg(vk_ctx_of(be), VK_K_gelu_dropout_backward_bias);
    size_t elem_groups = (n + wg - 1) / wg, col_groups = ((size_t)cols + wg - 1) / wg;
    struct {
        uint32_t dho, dbo, dgo, ho, rows, cols, elem_groups, colsum_rows;
        drop_pc d;
    } pc = {U(dh.off), U(dbias.off),   U(dg.off),      U(h.off), U(rows),
            U(cols),   U(elem_groups), VK_COLSUM_ROWS, {0}};
    if (!drop_fields(be, "gelu_dropout_backward_bias", n, p, key, &pc.d)) return;
    vk_arg args[] = {VK_ARG(dh.buf, pc.dho, n), VK_ARG(dbias.buf, pc.dbo, (size_t)cols),
                     VK_ARG(dg.buf, pc.dgo, n), VK_ARG(h.buf, pc.ho, n)};
    /* element groups, then the column groups */
    vk_dispatch_items(be, VK_K_gelu_dropout_backward_bias, args, NB(args), &pc, sizeof pc,
                      (elem_groups + col_groups) * wg);
}

void vk_crossentropy_fused(ts_backend *be, ts_tensor losses, ts_tensor dlogits, ts_tensor logits,
                           ts_tensor targets, int N, int V, int ignore_index, float scale) {
    if (N <= 0 || V <= 0) return;
    size_t nv = (size_t)N * V;
    struct {
        uint32_t lo, dlo, xo, to, N, V;
        int32_t ignore_index;
        float scale;
    } pc = {U(losses.off), U(dlogits.off), U(logits.off), U(targets.off),
            U(N),          U(V),           ignore_index,  scale};
    vk_arg args[] = {VK_ARG(losses.buf, pc.lo, (size_t)N), VK_ARG(dlogits.buf, pc.dlo, nv),
                     VK_ARG(logits.buf, pc.xo, nv), VK_ARG(targets.buf, pc.to, (size_t)N),
                     VK_WHOLE(vk_ctx_of(be)->status)};
    vk_dispatch_items(be, VK_K_crossentropy_fused, args, NB(args), &pc, sizeof pc,
                      (size_t)N * vk_kernel_wg(vk_ctx_of(be), VK_K_crossentropy_fused));
}

void vk_bias_qkv_split_forward(ts_backend *be, ts_tensor q, ts_tensor k, ts_tensor v, ts_tensor qkv,
                               ts_tensor bias, int B, int T, int NH, int HS) {
    size_t n = (size_t)B * T * NH * HS;
    if (n == 0) return;
    struct {
        uint32_t qo, ko, vo, po, bo, B, T, NH, HS;
    } pc = {U(q.off), U(k.off), U(v.off), U(qkv.off), U(bias.off), U(B), U(T), U(NH), U(HS)};
    vk_arg args[] = {VK_ARG(q.buf, pc.qo, n), VK_ARG(k.buf, pc.ko, n), VK_ARG(v.buf, pc.vo, n),
                     VK_ARG(qkv.buf, pc.po, 3 * n), VK_ARG(bias.buf, pc.bo, (size_t)3 * NH * HS)};
    vk_dispatch_items(be, VK_K_bias_qkv_split_forward, args, NB(args), &pc, sizeof pc, n);
}

void vk_qkv_split_backward_bias(ts_backend *be, ts_tensor dqkv, ts_tensor dbias, ts_tensor dq,
                                ts_tensor dk, ts_tensor dv, int B, int T, int NH, int HS) {
    size_t n = (size_t)B * T * NH * HS, cols = (size_t)3 * NH * HS;
    if (n == 0) return;
    size_t wg = vk_kernel_wg(vk_ctx_of(be), VK_K_qkv_split_backward_bias);
    size_t elem_groups = (n + wg - 1) / wg, col_groups = (cols + wg - 1) / wg;
    struct {
        uint32_t po, dbo, qo, ko, vo, B, T, NH, HS, elem_groups, colsum_rows;
    } pc = {U(dqkv.off), U(dbias.off), U(dq.off), U(dk.off),      U(dv.off),     U(B),
            U(T),        U(NH),        U(HS),     U(elem_groups), VK_COLSUM_ROWS};
    vk_arg args[] = {VK_ARG(dqkv.buf, pc.po, 3 * n), VK_ARG(dbias.buf, pc.dbo, cols),
                     VK_ARG(dq.buf, pc.qo, n), VK_ARG(dk.buf, pc.ko, n), VK_ARG(dv.buf, pc.vo, n)};
    /* element groups, then the column groups */
    vk_dispatch_items(be, VK_K_qkv_split_backward_bias, args, NB(args), &pc, sizeof pc,
                      (elem_groups + col_groups) * wg);
}
