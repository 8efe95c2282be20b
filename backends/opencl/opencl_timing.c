/*
 * opencl_timing.c — device time per op family from OpenCL profiling events, for the iface's
 * timings hook (`bench step --json` prints it as op_time_ms, in the shape vulkan_timing.c
 * gives). Only when TUNESCALE_CL_PROFILE=1 created the queue with profiling: every launch then
 * keeps its event until the hook reads and releases it.
 *
 * Families follow the kernel names (the Vulkan split's names where they share a job); CLBlast
 * reports one event per call (its last kernel, so padding or transposition helpers it runs
 * first are not counted).
 */
#include "backends/opencl/opencl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kernel-name prefixes and their families; the first match wins, the last is the rest. */
static const struct {
    const char *prefix, *family;
} families[] = {
    {"gemm", "gemm"},
    {"ts_gemm", "gemm"},
    {"ts_layernorm", "layernorm"},
    {"ts_softmax", "softmax"},
    {"ts_attention", "attention"},
    {"ts_permute_heads", "heads"},
    {"ts_gelu", "gelu"},
    {"ts_dropout", "dropout"},
    {"ts_bias", "bias"},
    {"ts_colsum", "bias"},
    {"ts_embedding", "embedding"},
    {"ts_lstm", "lstm"},
    {"ts_crossentropy", "crossentropy"},
    {"ts_reduce", "reduce"},
    {"ts_adamw", "adamw"},
    {"ts_grad_gate", "adamw"},
    {"ts_peak", "peak"},
    {"", "elementwise"},
};
#define N_FAMILIES (sizeof families / sizeof families[0])
_Static_assert(N_FAMILIES <= sizeof((ocl_profile *)0)->ms / sizeof(double), "ocl_profile.ms");

static unsigned char family_of(const char *name) {
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (!strncmp(name, families[i].prefix, strlen(families[i].prefix))) {
            /* the first entry with this family name, so shared names add up in one place */
            for (size_t k = 0; k <= i; k++)
                if (!strcmp(families[k].family, families[i].family)) return (unsigned char)k;
        }
    return (unsigned char)(N_FAMILIES - 1);
}

/* Adds each finished event's time to its family and releases them all. Reading an event that
 * has not finished waits for it; this is the hook's own wait, outside any training step (a
 * step ends with a blocking readback, so in `bench step` they have all finished). */
static void collect(ocl_ctx *ctx) {
    ocl_profile *p = &ctx->prof;
    for (size_t i = 0; i < p->n; i++) {
        cl_ulong t0 = 0, t1 = 0;
        cl_int err =
            clGetEventProfilingInfo(p->events[i], CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
        if (err == CL_PROFILING_INFO_NOT_AVAILABLE &&
            clWaitForEvents(1, &p->events[i]) == CL_SUCCESS)
            err = clGetEventProfilingInfo(p->events[i], CL_PROFILING_COMMAND_START, sizeof t0, &t0,
                                          NULL);
        if (err == CL_SUCCESS &&
            clGetEventProfilingInfo(p->events[i], CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) ==
                CL_SUCCESS &&
            t1 >= t0)
            p->ms[p->family[i]] += (double)(t1 - t0) * 1e-6;
        clReleaseEvent(p->events[i]);
    }
    p->n = 0;
}

cl_event *ocl_profile_event(ts_backend *be, const char *family) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    ocl_profile *p = &ctx->prof;
    if (!ctx->profiling) return NULL;
    if (p->n == p->cap) {
        if (p->cap >= ((size_t)1 << 16)) {
            collect(ctx); /* bounded: a long run folds its events in as it goes */
        } else {
            size_t cap = p->cap ? 2 * p->cap : 1024;
            cl_event *ev = realloc(p->events, cap * sizeof *ev);
            if (ev) p->events = ev;
            unsigned char *fam = ev ? realloc(p->family, cap) : NULL;
            if (fam) p->family = fam;
            if (!ev || !fam) return NULL; /* no memory: this launch goes untimed */
            p->cap = cap;
        }
    }
    p->family[p->n] = family_of(family);
    return &p->events[p->n++];
}

/* A launch that failed to enqueue leaves its slot unset: drop the last one. */
void ocl_profile_drop_last(ts_backend *be) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    if (ctx->profiling && ctx->prof.n) ctx->prof.n--;
}

static const char *family_name(size_t f) {
    return families[f].family;
}

size_t ocl_timings(ts_backend *be, char *json, size_t cap) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    if (!ctx->profiling) return 0;
    collect(ctx);
    return ts_timings_json(json, cap, ctx->prof.ms, N_FAMILIES, family_name);
}

void ocl_profile_free(ocl_ctx *ctx) {
    ocl_profile *p = &ctx->prof;
    for (size_t i = 0; i < p->n; i++)
        clReleaseEvent(p->events[i]);
    free(p->events);
    free(p->family);
    memset(p, 0, sizeof *p);
}
