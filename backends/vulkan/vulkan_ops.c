/*
 * vulkan_ops.c — the host side of every op except gemm, attention and peak: the generated
 * launch of the single-kernel ops of op_launch.h and the hand-written ones of the rest, each
 * recording its shaders from shaders/ with their push constants (the frontend has checked
 * the views). Nothing here waits for the device.
 *
 * Each push-constant struct mirrors the `P` block of its shader member for member (all 4-byte
 * scalars, so std430 adds no padding).
 */
#include "backends/vulkan/vulkan_internal.h"
#include "backends/op_variants.h"

#include <math.h>
#include <string.h>

#define NB(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define U(x)  ((uint32_t)(x))

/* ---- the ops of op_launch.h: one shader over the op's arguments --------------------------- */

/* Bindings: the tensors in order, each as a window of its extent; push constants: the
 * tensors' offsets, then the scalar words. */
static void launch_op(ts_backend *be, vk_kernel_id id, const char *op, ts_grid grid,
                      const ts_launch_tensor *tensors, int nt, const uint32_t *words, int nw) {
    enum { MAX_WORDS = 32 };
    if (ts_launch_empty(tensors, nt)) return;
    if (nt > VK_MAX_BINDINGS || nt + nw > MAX_WORDS) {
        vk_fail(be, 0, "%s: %d tensors and %d scalars are more than a launch takes", op, nt, nw);
        return;
    }
    uint32_t push[MAX_WORDS];
    vk_arg args[VK_MAX_BINDINGS];
    for (int i = 0; i < nt; i++) {
        push[i] = U(tensors[i].t.off);
        args[i] = VK_ARG(tensors[i].t.buf, push[i], tensors[i].n);
    }
    memcpy(push + nt, words, (size_t)nw * sizeof *words);
    size_t items =
        grid.kind == TS_GRID_ROWS ? grid.rows * vk_ctx_of(be)->row_wg : grid.rows * grid.cols;
    vk_dispatch_items(be, id, args, nt, push, (size_t)(nt + nw) * sizeof *push, items);
}

#define TS_OP(name, exempt, check, ...)                                                            \
    TS_OP_LAUNCH(TS_LAUNCHED_OP_DEFINE, (vk, VK_K_), name, __VA_ARGS__)
#include "backends/ops.def"
#undef TS_OP

/* ---- elementwise and copies ----------------------------------------------------------- */

void vk_fill(ts_backend *be, ts_tensor x, float value, size_t n) {
    if (n == 0) return;
    VkCommandBuffer cmd = vk_cmd_on(be, x.buf, NULL);
    if (!cmd) return;
    uint32_t bits;
    memcpy(&bits, &value, 4);
    vkCmdFillBuffer(cmd, x.buf->buf, x.off * 4, n * 4, bits);
    be->dispatches++; /* a fill is a device command like a dispatch */
    vk_barrier(be);
}

void vk_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n) {
    if (n == 0) return;
    if (dst.buf == src.buf && dst.off == src.off) return;
    VkCommandBuffer cmd;
    if (dst.buf == src.buf && dst.off < src.off + n && src.off < dst.off + n) {
        /* Overlapping regions of one buffer are not allowed in vkCmdCopyBuffer: go through
         * the scratch buffer, which gives memmove's result. */
        ts_buffer *tmp = vk_scratch(be, n * 4);
        if (!tmp || !(cmd = vk_cmd_on(be, dst.buf, src.buf))) return;
        vk_use(be, tmp);
        VkBufferCopy a = {src.off * 4, 0, n * 4}, b = {0, dst.off * 4, n * 4};
        vkCmdCopyBuffer(cmd, src.buf->buf, tmp->buf, 1, &a);
        vk_barrier(be);
        vkCmdCopyBuffer(cmd, tmp->buf, dst.buf->buf, 1, &b);
        be->dispatches += 2;
        vk_barrier(be);
        return;
    }
    if (!(cmd = vk_cmd_on(be, dst.buf, src.buf))) return;
    VkBufferCopy r = {src.off * 4, dst.off * 4, n * 4};
    vkCmdCopyBuffer(cmd, src.buf->buf, dst.buf->buf, 1, &r);
    be->dispatches++;
    vk_barrier(be);
}

void vk_scale(ts_backend *be, ts_tensor x, float s, size_t n) {
    if (n == 0) return;
    struct {
        uint32_t xo, n;
        float s;
    } p = {U(x.off), U(n), s};
    vk_arg args[] = {VK_ARG(x.buf, p.xo, n)};
    vk_dispatch_items(be, VK_K_scale, args, NB(args), &p, sizeof p, n);
}

/* ---- bias ------------------------------------------------------------------------------ */

/* dst[c] += sum_k part[k * width + base + c] for c < cols. */
static void colsum_finish(ts_backend *be, ts_tensor dst, ts_buffer *part, int cols, int chunks,
                          int width, int base) {
    struct {
        uint32_t dso, cols, chunks, width, base;
    } p = {U(dst.off), U(cols), U(chunks), U(width), U(base)};
    vk_arg args[] = {VK_ARG(dst.buf, p.dso, (size_t)cols), VK_WHOLE(part)};
    vk_dispatch_items(be, VK_K_colsum_finish, args, NB(args), &p, sizeof p, (size_t)cols);
}

void vk_bias_backward(ts_backend *be, ts_tensor dbias, ts_tensor dout, int rows, int cols) {
    if (rows <= 0 || cols <= 0) return;
    size_t n = (size_t)rows * cols;
    int chunks = (rows + VK_COLSUM_ROWS - 1) / VK_COLSUM_ROWS;
    ts_buffer *part = vk_scratch(be, (size_t)chunks * cols * 4);
    if (!part) return;
    struct {
        uint32_t so, rows, cols, chunks, chunk_rows;
    } p = {U(dout.off), U(rows), U(cols), U(chunks), VK_COLSUM_ROWS};
    vk_arg args[] = {VK_WHOLE(part), VK_ARG(dout.buf, p.so, n)};
    vk_dispatch_items(be, VK_K_colsum_partial, args, NB(args), &p, sizeof p, (size_t)chunks * cols);
    colsum_finish(be, dbias, part, cols, chunks, cols, 0);
}

/* ---- embeddings ------------------------------------------------------------------------ */

void vk_embedding_forward(ts_backend *be, ts_tensor out, ts_tensor table, ts_tensor ids, int n,
                          int C, int V, int accumulate) {
    if (n <= 0 || C <= 0) return; /* V > 0 here: the frontend checked the table */
    struct {
        uint32_t oo, to, io, n, C;
        int32_t V, accumulate;
    } p = {U(out.off), U(table.off), U(ids.off), U(n), U(C), V, accumulate};
    vk_arg args[] = {VK_ARG(out.buf, p.oo, (size_t)n * C), VK_ARG(table.buf, p.to, (size_t)V * C),
                     VK_ARG(ids.buf, p.io, (size_t)n), VK_WHOLE(vk_ctx_of(be)->status)};
    vk_dispatch_items(be, VK_K_embedding_forward, args, NB(args), &p, sizeof p, (size_t)n * C);
}

void vk_embedding_backward(ts_backend *be, ts_tensor dtable, ts_tensor dout, ts_tensor ids, int n,
                           int C, int V) {
    if (n <= 0 || C <= 0 || V <= 0) return;
    struct {
        uint32_t dto, go, io, n, C;
        int32_t V;
    } p = {U(dtable.off), U(dout.off), U(ids.off), U(n), U(C), V};
    vk_arg args[] = {VK_ARG(dtable.buf, p.dto, (size_t)V * C),
                     VK_ARG(dout.buf, p.go, (size_t)n * C), VK_ARG(ids.buf, p.io, (size_t)n),
                     VK_WHOLE(vk_ctx_of(be)->status)};
    /* one work-group per table row */
    vk_dispatch_items(be, VK_K_embedding_backward, args, NB(args), &p, sizeof p,
                      (size_t)V * VK_EMB_TILE);
}

/* ---- LayerNorm ------------------------------------------------------------------------- */

void vk_layernorm_backward(ts_backend *be, ts_tensor dinp, ts_tensor dweight, ts_tensor dbias,
                           ts_tensor dout, ts_tensor inp, ts_tensor weight, ts_tensor mean,
                           ts_tensor rstd, int N, int C) {
    if (N <= 0 || C <= 0) return;
    size_t nc = (size_t)N * C;
    /* Parameter sums first: dinp may alias dout, and the barriers run these before the dinp
     * shader overwrites it. */
    int chunks = (N + VK_COLSUM_ROWS - 1) / VK_COLSUM_ROWS;
    ts_buffer *part = vk_scratch(be, (size_t)chunks * 2 * C * 4);
    if (!part) return;
    struct {
        uint32_t dyo, xo, mo, ro, N, C, chunks, chunk_rows;
    } pp = {U(dout.off), U(inp.off), U(mean.off), U(rstd.off),
            U(N),        U(C),       U(chunks),   VK_COLSUM_ROWS};
    vk_arg pargs[] = {VK_WHOLE(part), VK_ARG(dout.buf, pp.dyo, nc), VK_ARG(inp.buf, pp.xo, nc),
                      VK_ARG(mean.buf, pp.mo, (size_t)N), VK_ARG(rstd.buf, pp.ro, (size_t)N)};
    vk_dispatch_items(be, VK_K_layernorm_param_partial, pargs, NB(pargs), &pp, sizeof pp,
                      (size_t)chunks * C);
    colsum_finish(be, dweight, part, C, chunks, 2 * C, 0);
    colsum_finish(be, dbias, part, C, chunks, 2 * C, C);
    struct {
        uint32_t dxo, dyo, xo, wo, mo, ro, N, C;
    } p = {U(dinp.off), U(dout.off), U(inp.off), U(weight.off),
           U(mean.off), U(rstd.off), U(N),       U(C)};
    vk_arg args[] = {VK_ARG(dinp.buf, p.dxo, nc),       VK_ARG(dout.buf, p.dyo, nc),
                     VK_ARG(inp.buf, p.xo, nc),         VK_ARG(weight.buf, p.wo, (size_t)C),
                     VK_ARG(mean.buf, p.mo, (size_t)N), VK_ARG(rstd.buf, p.ro, (size_t)N)};
    vk_dispatch_items(be, VK_K_layernorm_backward, args, NB(args), &p, sizeof p,
                      (size_t)N * vk_ctx_of(be)->row_wg);
}

/* ---- activations ----------------------------------------------------------------------- */

static void dropout_mask(ts_backend *be, const char *op, ts_tensor out, ts_tensor inp, size_t n,
                         float p, ts_dropout_key key) {
    /* A slice's global indices are 32-bit in the shader: check the last one here. */
    uint64_t g_last =
        key.span ? key.offset + (uint64_t)((n - 1) / key.span) * key.stride + (n - 1) % key.span
                 : key.offset + n - 1;
    if ((key.offset || key.span) && g_last > UINT32_MAX) {
        vk_fail(be, 0, "%s: slice element %llu is past the shader's 32-bit index", op,
                (unsigned long long)g_last);
        return;
    }
    struct {
        uint32_t oo, xo, n;
        ts_dropout_words d;
    } pc = {U(out.off), U(inp.off), U(n), ts_dropout_words_of(p, key)};
    vk_arg args[] = {VK_ARG(out.buf, pc.oo, n), VK_ARG(inp.buf, pc.xo, n)};
    /* one item per Philox block when the slice is block-aligned, else one per element */
    int blocks = key.span == 0 && key.offset % 4 == 0;
    vk_dispatch_items(be, VK_K_dropout, args, NB(args), &pc, sizeof pc, blocks ? (n + 3) / 4 : n);
}

TS_DROPOUT_OPS(vk)

/* ---- attention ------------------------------------------------------------------------- */

/* heads[0..parts) <-> packed (shaders/permute_heads.comp). */
static void permute_heads(ts_backend *be, const char *op, ts_tensor packed, const ts_tensor *heads,
                          int parts, int B, int T, int NH, int HS, int to_heads) {
    (void)op; /* no limit of its own */
    size_t n = (size_t)B * T * NH * HS;
    if (n == 0) return;
    const ts_tensor *h1 = parts == 3 ? &heads[1] : &heads[0];
    const ts_tensor *h2 = parts == 3 ? &heads[2] : &heads[0];
    struct {
        uint32_t po, o0, o1, o2, parts, B, T, NH, HS;
        int32_t to_heads;
    } p = {U(packed.off), U(heads[0].off), U(h1->off), U(h2->off), U(parts), U(B),
           U(T),          U(NH),           U(HS),      to_heads};
    vk_arg args[] = {VK_ARG(packed.buf, p.po, (size_t)parts * n), VK_ARG(heads[0].buf, p.o0, n),
                     VK_ARG(h1->buf, p.o1, n), VK_ARG(h2->buf, p.o2, n)};
    vk_dispatch_items(be, VK_K_permute_heads, args, NB(args), &p, sizeof p, n);
}

TS_HEADS_OPS(vk)

void vk_softmax_causal_forward(ts_backend *be, ts_tensor att, ts_tensor pre, int BH, int T,
                               float scale) {
    if (BH <= 0 || T <= 0) return;
    size_t n = (size_t)BH * T * T;
    struct {
        uint32_t ao, po, rows, T;
        float scale;
    } p = {U(att.off), U(pre.off), U((size_t)BH * T), U(T), scale};
    vk_arg args[] = {VK_ARG(att.buf, p.ao, n), VK_ARG(pre.buf, p.po, n)};
    vk_dispatch_items(be, VK_K_softmax_causal_forward, args, NB(args), &p, sizeof p,
                      (size_t)BH * T * vk_ctx_of(be)->row_wg);
}

void vk_softmax_causal_backward(ts_backend *be, ts_tensor dpre, ts_tensor datt, ts_tensor att,
                                int BH, int T, float scale) {
    if (BH <= 0 || T <= 0) return;
    size_t n = (size_t)BH * T * T;
    struct {
        uint32_t dxo, dyo, ao, rows, T;
        float scale;
    } p = {U(dpre.off), U(datt.off), U(att.off), U((size_t)BH * T), U(T), scale};
    vk_arg args[] = {VK_ARG(dpre.buf, p.dxo, n), VK_ARG(datt.buf, p.dyo, n),
                     VK_ARG(att.buf, p.ao, n)};
    vk_dispatch_items(be, VK_K_softmax_causal_backward, args, NB(args), &p, sizeof p,
                      (size_t)BH * T * vk_ctx_of(be)->row_wg);
}

/* ---- loss ------------------------------------------------------------------------------ */

void vk_crossentropy_forward(ts_backend *be, ts_tensor losses, ts_tensor probs, ts_tensor logits,
                             ts_tensor targets, int N, int V, int ignore_index) {
    if (N <= 0 || V <= 0) return;
    size_t nv = (size_t)N * V;
    struct {
        uint32_t lo, po, xo, to, N, V;
        int32_t ignore_index;
    } p = {U(losses.off), U(probs.off), U(logits.off), U(targets.off), U(N), U(V), ignore_index};
    vk_arg args[] = {VK_ARG(losses.buf, p.lo, (size_t)N), VK_ARG(probs.buf, p.po, nv),
                     VK_ARG(logits.buf, p.xo, nv), VK_ARG(targets.buf, p.to, (size_t)N),
                     VK_WHOLE(vk_ctx_of(be)->status)};
    vk_dispatch_items(be, VK_K_crossentropy_forward, args, NB(args), &p, sizeof p,
                      (size_t)N * vk_ctx_of(be)->row_wg);
}

void vk_crossentropy_backward(ts_backend *be, ts_tensor dlogits, ts_tensor probs, ts_tensor targets,
                              int N, int V, int ignore_index, float scale) {
    if (N <= 0 || V <= 0) return;
    size_t nv = (size_t)N * V;
    struct {
        uint32_t dlo, po, to, N, V;
        int32_t ignore_index;
        float scale;
    } p = {U(dlogits.off), U(probs.off), U(targets.off), U(N), U(V), ignore_index, scale};
    vk_arg args[] = {VK_ARG(dlogits.buf, p.dlo, nv), VK_ARG(probs.buf, p.po, nv),
                     VK_ARG(targets.buf, p.to, (size_t)N), VK_WHOLE(vk_ctx_of(be)->status)};
    vk_dispatch_items(be, VK_K_crossentropy_backward, args, NB(args), &p, sizeof p, nv);
}

/* ---- reductions and the optimizer ------------------------------------------------------ */

static void reduce(ts_backend *be, const char *op, ts_tensor out, ts_tensor x, size_t n,
                   int squares) {
    (void)op; /* no limit of its own */
    if (n == 0) {
        vk_fill(be, out, 0.0f, 1);
        return;
    }
    ts_buffer *part = vk_scratch(be, VK_RED_GROUPS * 4);
    if (!part) return;
    struct {
        uint32_t xo, n, squares, groups;
    } pp = {U(x.off), U(n), U(squares), VK_RED_GROUPS};
    vk_arg pargs[] = {VK_WHOLE(part), VK_ARG(x.buf, pp.xo, n)};
    vk_dispatch_items(be, VK_K_reduce_partial, pargs, NB(pargs), &pp, sizeof pp,
                      (size_t)VK_RED_GROUPS * vk_kernel_wg(vk_ctx_of(be), VK_K_reduce_partial));
    struct {
        uint32_t oo, groups;
    } fp = {U(out.off), VK_RED_GROUPS};
    vk_arg fargs[] = {VK_ARG(out.buf, fp.oo, 1), VK_WHOLE(part)};
    vk_dispatch(be, VK_K_reduce_finish, fargs, NB(fargs), &fp, sizeof fp, 1, 1, 1);
}

TS_SUM_OPS(vk)

void vk_grad_gate(ts_backend *be, ts_tensor gate, ts_tensor norm, ts_tensor sums, double clip) {
    struct {
        uint32_t gto, no, so;
        float clip;
    } p = {U(gate.off), U(norm.off), U(sums.off), (float)clip};
    vk_arg args[] = {VK_ARG(gate.buf, p.gto, 2), VK_ARG(norm.buf, p.no, 1),
                     VK_ARG(sums.buf, p.so, 2)};
    vk_dispatch(be, VK_K_grad_gate, args, NB(args), &p, sizeof p, 1, 1, 1);
}

void vk_adamw(ts_backend *be, ts_tensor param, ts_tensor grad, ts_tensor m, ts_tensor v,
              ts_tensor gate, size_t n, double lr, double beta1, double beta2, double eps,
              double weight_decay, int t) {
    if (n == 0) return;
    struct {
        uint32_t po, go, mo, vo, gto, n;
        ts_adamw_scalars s; /* decay, b1, b2, eps, a1, a2, neg_step, bc2_sqrt: the shader's */
    } p = {U(param.off),
           U(grad.off),
           U(m.off),
           U(v.off),
           U(gate.off),
           U(n),
           ts_adamw_scalars_of(lr, beta1, beta2, eps, weight_decay, t)};
    vk_arg args[] = {VK_ARG(param.buf, p.po, n), VK_ARG(grad.buf, p.go, n), VK_ARG(m.buf, p.mo, n),
                     VK_ARG(v.buf, p.vo, n), VK_ARG(gate.buf, p.gto, 2)};
    vk_dispatch_items(be, VK_K_adamw, args, NB(args), &p, sizeof p, n);
}
