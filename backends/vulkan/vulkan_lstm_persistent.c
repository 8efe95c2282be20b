/*
 * vulkan_lstm_persistent.c — the sequence ops (ops.def: lstm_sequence_forward/backward) on
 * Vulkan: one persistent dispatch per layer and direction (shaders/lstm_persistent_*.comp)
 * where it is safe, else the fused step dispatches of vulkan_lstm.c, one per time step.
 *
 * Vulkan has no core query for how many work-groups can run at once, so the group count comes
 * from what the device says it is made of: on a CPU device (lavapipe) the host's online CPUs
 * (llvmpipe runs compute work-groups on one thread per CPU); on NVIDIA the SM count of
 * VK_NV_shader_sm_builtins (one 64-item group per SM is always resident). Any other device is
 * refused. Then, as on OpenCL, a one-time self-test must complete and match
 * (backends/lstm_selftest.h). Until a GPU has run it, it is taken only when forced
 * (TUNESCALE_LSTM_PATH=persistent); lavapipe refuses it (resident_groups says why).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/lstm_selftest.h"
#include "backends/lstm_variant.h"
#include "backends/vulkan/vulkan_internal.h"

#define NB(a)          ((int)(sizeof(a) / sizeof((a)[0])))
#define U(x)           ((uint32_t)(x))
#define VK_LSTM_WL_MAX 4000u /* WL_MAX in shaders/lstm_persistent.glsl (floats) */

struct vk_lstm_persistent {
    ts_buffer *sync; /* 4 ints: arrived, generation, failure flag */
    ts_lstm_verdict verdict;
};

void vk_lstm_persistent_release(vk_ctx *ctx) {
    if (!ctx->lstm_persistent) return;
    if (ctx->lstm_persistent->sync) vk_mem_free(ctx, ctx->lstm_persistent->sync);
    free(ctx->lstm_persistent);
    ctx->lstm_persistent = NULL;
}

typedef struct {
    uint32_t groups, units, wl_on;
} persistent_plan;

/* How many work-groups the device can hold at once, by its own account; 0 with why when it
 * gives none. */
static uint32_t resident_groups(vk_ctx *ctx, char *why, size_t cap) {
    if (ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        /* llvmpipe runs compute work-groups on one thread per host CPU, so the groups do run
         * at once; but it stops a shader loop after 65535 iterations as if its condition had
         * turned false (LP_MAX_TGSI_LOOP_ITERATIONS), and the barrier's wait for the other
         * groups is such a loop: cut short, it let item 0 through early and the results were
         * wrong now and then (the barrier now fails instead). A wait split into nested loops
         * timed out in every trial. So CPU devices are refused. */
        snprintf(why, cap,
                 "on a CPU device (lavapipe) shader loops stop after 65535 iterations, which "
                 "cuts the barrier's wait short; refused");
        return ts_lstm_skip_residency() ? U(sysconf(_SC_NPROCESSORS_ONLN)) : 0;
    }
    if (ctx->props.apiVersion >= VK_API_VERSION_1_1 &&
        vk_has_device_ext(ctx->phys, "VK_NV_shader_sm_builtins")) {
        VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV};
        VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                          .pNext = &sm};
        vkGetPhysicalDeviceProperties2(ctx->phys, &p2);
        if (sm.shaderSMCount) return sm.shaderSMCount;
    }
    snprintf(why, cap,
             "the device reports no count of its compute units (only CPU devices and "
             "NVIDIA's VK_NV_shader_sm_builtins do)");
    return 0;
}

/* Plans H units; 0 with why when the groups could not all be resident. TUNESCALE_LSTM_GROUPS
 * and TUNESCALE_LSTM_W=global as on OpenCL (tests). */
static int plan_for(ts_backend *be, int H, persistent_plan *pl, char *why, size_t cap) {
    vk_ctx *ctx = vk_ctx_of(be);
    uint32_t cus = resident_groups(ctx, why, cap);
    if (!cus) return 0;
    uint32_t groups = cus < U(H) ? cus : U(H);
    const char *env = getenv("TUNESCALE_LSTM_GROUPS");
    if (env && atoi(env) > 0) groups = U(atoi(env));
    if (groups > cus && !ts_lstm_skip_residency()) {
        snprintf(why, cap, "%u work-groups cannot all be resident on %u compute units", groups,
                 cus);
        return 0;
    }
    pl->units = (U(H) + groups - 1) / groups;
    pl->groups = (U(H) + pl->units - 1) / pl->units;
    const char *w_env = getenv("TUNESCALE_LSTM_W");
    pl->wl_on = (size_t)4 * pl->units * H <= VK_LSTM_WL_MAX && !(w_env && !strcmp(w_env, "global"));
    snprintf(why, cap, "%u work-groups of %u items on %u compute units, W_hh %s", pl->groups,
             vk_kernel_wg(ctx, VK_K_lstm_persistent_forward), cus,
             pl->wl_on ? "in shared memory" : "read from global memory");
    return 1;
}

/* The barrier words, made on first use; NULL (error recorded) on failure. */
static struct vk_lstm_persistent *state_of(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (ctx->lstm_persistent) return ctx->lstm_persistent;
    struct vk_lstm_persistent *p = calloc(1, sizeof *p);
    if (!p) {
        ts_backend_fail(be, TS_ERR, "out of host memory (persistent LSTM kernel)");
        return NULL;
    }
    ctx->lstm_persistent = p;
    if (be->impl->buffer_alloc(be, 4 * sizeof(int32_t), &p->sync) != TS_OK) {
        ts_backend_fail(be, TS_ERR, "%s", ts_last_error());
        return NULL;
    }
    return p;
}

static void persistent_forward(ts_backend *be, struct vk_lstm_persistent *st,
                               const persistent_plan *pl, ts_tensor h, ts_tensor c, ts_tensor act,
                               ts_tensor pre, ts_tensor h0, ts_tensor c0, ts_tensor w_hh,
                               ts_tensor b_ih, ts_tensor b_hh, int T, int B, int H, int has_init) {
    if (!has_init) h0 = h, c0 = c; /* unread: any real buffer */
    size_t seq = (size_t)T * B * H, state = (size_t)B * H;
    struct {
        uint32_t ho, co, ao, po, h0o, c0o, wo, bio, bho, T, B, H, has_init, U, wl_on, spin_cap;
    } p = {U(h.off),         U(c.off),  U(act.off),  U(pre.off),
           U(h0.off),        U(c0.off), U(w_hh.off), U(b_ih.off),
           U(b_hh.off),      U(T),      U(B),        U(H),
           U(has_init != 0), pl->units, pl->wl_on,   TS_LSTM_SPIN_CAP};
    vk_arg args[] = {VK_ARG(h.buf, p.ho, seq),
                     VK_ARG(c.buf, p.co, seq),
                     VK_ARG(act.buf, p.ao, 4 * seq),
                     VK_ARG(pre.buf, p.po, 4 * seq),
                     VK_ARG(h0.buf, p.h0o, state),
                     VK_ARG(c0.buf, p.c0o, state),
                     VK_ARG(w_hh.buf, p.wo, (size_t)4 * H * H),
                     VK_ARG(b_ih.buf, p.bio, (size_t)4 * H),
                     VK_ARG(b_hh.buf, p.bho, (size_t)4 * H),
                     VK_WHOLE(st->sync)};
    vk_fill(be, (ts_tensor){st->sync, 0}, 0.0f, 4);
    vk_dispatch(be, VK_K_lstm_persistent_forward, args, NB(args), &p, sizeof p, pl->groups, 1, 1);
}

static void persistent_backward(ts_backend *be, struct vk_lstm_persistent *st,
                                const persistent_plan *pl, ts_tensor dpre, ts_tensor dc,
                                ts_tensor dh, ts_tensor w_hh, ts_tensor act, ts_tensor c,
                                ts_tensor c0, int T, int B, int H, int has_init) {
    if (!has_init) c0 = c;
    size_t seq = (size_t)T * B * H, state = (size_t)B * H;
    struct {
        uint32_t dpo, dco, dho, wo, ao, co, c0o, T, B, H, has_init, U, wl_on, spin_cap;
    } p = {U(dpre.off),
           U(dc.off),
           U(dh.off),
           U(w_hh.off),
           U(act.off),
           U(c.off),
           U(c0.off),
           U(T),
           U(B),
           U(H),
           U(has_init != 0),
           pl->units,
           pl->wl_on,
           TS_LSTM_SPIN_CAP};
    vk_arg args[] = {VK_ARG(dpre.buf, p.dpo, 4 * seq), VK_ARG(dc.buf, p.dco, state),
                     VK_ARG(dh.buf, p.dho, seq),       VK_ARG(w_hh.buf, p.wo, (size_t)4 * H * H),
                     VK_ARG(act.buf, p.ao, 4 * seq),   VK_ARG(c.buf, p.co, seq),
                     VK_ARG(c0.buf, p.c0o, state),     VK_WHOLE(st->sync)};
    vk_fill(be, (ts_tensor){st->sync, 0}, 0.0f, 4);
    vk_dispatch(be, VK_K_lstm_persistent_backward, args, NB(args), &p, sizeof p, pl->groups, 1, 1);
}

/* ---- the self-test's view of the kernel (backends/lstm_selftest.h) ----------------------- */

/* The plan for `units` units per group. */
static persistent_plan test_plan(const persistent_plan *real, int units, int H) {
    (void)H; /* the shaders' shared array has a fixed size */
    persistent_plan pl = *real;
    pl.units = (uint32_t)units;
    return pl;
}

static int read_flag(ts_backend *be, struct vk_lstm_persistent *st) {
    int32_t flag = 1;
    if (be->iface->download(be, &flag, (ts_tensor){st->sync, 2}, sizeof flag) != TS_OK) return 1;
    return flag != 0;
}

TS_LSTM_SELF_TEST_HOOKS(struct vk_lstm_persistent)

/* ---- the choice ------------------------------------------------------------------------- */

static int use_persistent(ts_backend *be, int T, int B, int H, persistent_plan *pl,
                          struct vk_lstm_persistent **out) {
    /* not by default anywhere until a GPU has run it (the CPU devices here cannot) */
    if (!ts_lstm_persistent_wanted(be, "not by default on Vulkan: not yet validated on a GPU "
                                       "(TUNESCALE_LSTM_PATH=persistent tries it)"))
        return 0;
    struct vk_lstm_persistent *st = state_of(be);
    if (!st) return 0;
    char why[200];
    /* the shaders index with 32-bit words */
    int ok = (size_t)4 * T * B * H < UINT32_MAX / 2 && (size_t)4 * H * H < UINT32_MAX / 2;
    if (!ok) snprintf(why, sizeof why, "T=%d B=%d H=%d is more than the shaders index", T, B, H);
    ok = ok && plan_for(be, H, pl, why, sizeof why);
    if (ok) {
        test_ctx t = {st, *pl};
        ts_lstm_persistent_kernel k = {
            &t, test_forward, test_backward, vk_lstm_step_forward, vk_lstm_step_backward, vk_copy};
        if (!ts_lstm_persistent_checked(be, &st->verdict, &k, (int)pl->groups, "vulkan"))
            ok = 0, snprintf(why, sizeof why, "%s", st->verdict.why);
    }
    *out = st;
    return ts_lstm_persistent_decide(be, ok, why);
}

TS_LSTM_SEQUENCE_OPS(vk, struct vk_lstm_persistent)
