/*
 * cmd_bench.c — `tunescale bench step`: tokens/s and peak memory of full training steps
 * (forward, backward, clip, AdamW) on random tokens, after warm-up steps. The peer script in
 * bench/peer/ runs the same steps in PyTorch so the two can be compared in one invocation.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/peak_cache.h"
#include "cli/cli_args.h"
#include "cli/cli_backend_opts.h"
#include "cli/commands.h"
#include "tune/gemm_tune.h"
#include "model/model.h"
#include "util/stats.h"
#include "util/sysinfo.h"
#include "train/step.h"
#include "util/philox.h"
#include "util/progress.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale bench step --backend B --model NAME [--batch B] [--steps N]\n"
            "                            [--seq-len T] [--warmup W] [--threads N] [--vocab V]\n"
            "                            [--device N] [--mem-limit SIZE] [--repeat N] [--json]\n"
            "                            [--precision fp32|tf32|bf16|fp16]\n\n"
            "Times N full training steps (forward, backward, grad-norm clip, AdamW) of MODEL\n"
            "on random tokens after W warm-up steps; prints tokens/s, ms/step and peak device\n"
            "memory. Defaults: batch 16, steps 20, seq-len 256, warmup 3, vocab 100.\n"
            "(tunescale bench gemm --help: matrix products; tunescale bench peak --help:\n"
            "measured FP32 peak and memory bandwidth; tunescale bench sample --help: decoding\n"
            "with and without the key/value cache.)\n");
}

static int step_bench(int argc, char **argv) {
    const char *model_name = NULL;
    ts_cli_backend bk = {"cpu", 0, {0}};
    int B = 16, steps = 20, T = 0, repeat = 1, warmup = 3, vocab = 100, json = 0, first;
    const ts_cli_opt opts[] = {TS_OPT("model", TS_ARG_STR, &model_name),
                               TS_OPT_NUM("batch", TS_ARG_INT, &B, 1, 1e6),
                               TS_OPT_NUM("steps", TS_ARG_INT, &steps, 1, 1e6),
                               TS_OPT_NUM("seq-len", TS_ARG_INT, &T, 1, 1e6),
                               TS_OPT_NUM("warmup", TS_ARG_INT, &warmup, 0, 1e6),
                               TS_OPT_NUM("vocab", TS_ARG_INT, &vocab, 1, 1e6),
                               TS_OPT_NUM("repeat", TS_ARG_INT, &repeat, 1, 1000),
                               TS_OPT("json", TS_ARG_ON, &json),
                               TS_OPT_FN("precision", ts_cli_precision, &bk.o.precision),
                               TS_OPT_END};
    const ts_cli_spec spec = {"bench step", opts, &bk, 1, usage, 0};
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    const char *backend = bk.backend;
    if (!model_name) {
        fprintf(stderr, "tunescale bench step: --model is required (see --help)\n");
        return 2;
    }
    if (vocab < 5) { /* tokens are drawn from [4, V): the 4 specials plus one character */
        fprintf(stderr, "tunescale bench step: --vocab must be at least 5 (got %d)\n", vocab);
        return 2;
    }
    ts_model_config cfg;
    if (ts_model_config_lookup(model_name, &cfg) != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        return 2;
    }
    cfg.vocab_size = vocab;
    if (!T) T = ts_model_default_seq_len(&cfg); /* 256, or a shorter position table's length */
    ts_backend *be = NULL;
    ts_model *m = NULL;
    /* op_time_ms on opencl: profiling events (TUNESCALE_CL_PROFILE=0 turns them off) */
    if (json) setenv("TUNESCALE_CL_PROFILE", "1", 0);
    ts_status st = ts_backend_create(backend, &bk.o, &be);
    if (st == TS_OK) st = ts_model_create(&cfg, be, &m);
    if (st == TS_OK) st = ts_model_reserve(m, B, T);
    if (st == TS_OK) st = ts_model_init_params(m, 1);
    int32_t *x = malloc((size_t)B * T * 4), *y = malloc((size_t)B * T * 4);
    ts_rng rng;
    ts_rng_init(&rng, 1, 0x42454e43u);
    ts_optimizer opt;
    ts_optimizer_default(&opt);
    ts_loss_scaler scaler; /* --precision fp16 steps as training runs them */
    ts_loss_scaler_init(&scaler);
    if (bk.o.precision == TS_PREC_FP16) opt.scaler = &scaler;
    double t0 = 0, loss_last = 0, load0 = ts_sysinfo_loadavg();
    double *block_s = calloc((size_t)repeat, sizeof *block_s);
    if (!block_s && st == TS_OK) st = ts_set_error("out of host memory");
    unsigned long submits0 = 0, ops0 = 0, dispatches0 = 0, waits0 = 0;
    ts_step_pending pend[2];
    int last = -1;
    for (int s = 0; st == TS_OK && s < warmup + steps * repeat; s++) {
        if (s == warmup) {
            if (last >= 0) { /* the warm-up's last readback is not the timed steps' */
                ts_step_result res;
                st = ts_train_step_end(m, &pend[last & 1], &res);
                last = -1;
                if (st != TS_OK) break;
            }
            t0 = ts_now();
            submits0 = be->submissions;
            ops0 = be->ops;
            dispatches0 = be->dispatches;
            waits0 = be->host_waits;
            if (be->iface->timings) be->iface->timings(be, NULL, 0); /* drop the warmup's */
        }
        if (s > warmup && (s - warmup) % steps == 0) { /* a timed block ends */
            double now = ts_now();
            block_s[(s - warmup) / steps - 1] = now - t0;
            t0 = now;
        }
        for (int i = 0; i < B * T; i++) {
            x[i] = 4 + (int32_t)ts_rng_below(&rng, (uint32_t)vocab - 4);
            y[i] = 4 + (int32_t)ts_rng_below(&rng, (uint32_t)vocab - 4);
        }
        /* the trainer's step at the default settings, its learning rate without a schedule,
         * one ahead of its readback as the trainer runs it */
        ts_step_result res;
        st = ts_train_step_begin(m, &opt, opt.lr, s, 1, x, y, B, T, NULL, &pend[s & 1]);
        ts_status end = last >= 0 ? ts_train_step_end(m, &pend[last & 1], &res) : TS_OK;
        if (st == TS_OK) st = end;
        if (last >= 0) loss_last = res.loss;
        last = s;
    }
    if (last >= 0) { /* the last step's readback (after an error too: it lands in pend) */
        ts_step_result res;
        ts_status end = ts_train_step_end(m, &pend[last & 1], &res);
        if (st == TS_OK) st = end;
        loss_last = res.loss;
    }
    if (st == TS_OK) block_s[repeat - 1] = ts_now() - t0;
    /* the block times become tokens/s; the figure is their median, with the range */
    for (int k = 0; st == TS_OK && k < repeat; k++)
        block_s[k] = (double)B * T * steps / block_s[k];
    ts_repeat_stats rs = ts_repeat_summarise(block_s, st == TS_OK ? (size_t)repeat : 0);
    double dt = (double)B * T * steps / rs.median, load1 = ts_sysinfo_loadavg();
    free(block_s);
    rc = 0;
    if (st != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        rc = ts_exit_code(st);
    } else {
        ts_device_info d;
        memset(&d, 0, sizeof d);
        be->iface->device_info(be, &d);
        double tok_s = rs.median;
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "bench", "step");
            cJSON_AddStringToObject(j, "backend", backend);
            cJSON_AddStringToObject(j, "device", d.name);
            cJSON_AddNumberToObject(j, "threads", d.threads);
            cJSON_AddStringToObject(j, "model", cfg.name);
            cJSON_AddStringToObject(j, "precision", ts_precision_name(be->precision));
            cJSON_AddStringToObject(j, "precision_impl", be->precision_impl);
            cJSON_AddNumberToObject(j, "params", (double)m->n_params);
            cJSON_AddNumberToObject(j, "batch", B);
            cJSON_AddNumberToObject(j, "seq_len", T);
            cJSON_AddNumberToObject(j, "steps", steps);
            cJSON_AddNumberToObject(j, "tokens_per_s", tok_s);
            cJSON *rep = cJSON_AddObjectToObject(j, "repeats");
            cJSON_AddNumberToObject(rep, "n", repeat);
            cJSON_AddNumberToObject(rep, "tokens_per_s_median", rs.median);
            cJSON_AddNumberToObject(rep, "tokens_per_s_min", rs.min);
            cJSON_AddNumberToObject(rep, "tokens_per_s_max", rs.max);
            cJSON_AddNumberToObject(rep, "spread", rs.spread);
            cJSON_AddNumberToObject(rep, "load_average_1m_before", load0);
            cJSON_AddNumberToObject(rep, "load_average_1m_after", load1);
            cJSON_AddNumberToObject(j, "ms_per_step", 1e3 * dt / steps);
            cJSON_AddNumberToObject(j, "peak_memory_bytes", (double)be->peak_bytes);
            /* what the peak held (the categories sum to it), and how the activations were
             * split under the largest allocation the device allows */
            cJSON *cat = cJSON_AddObjectToObject(j, "peak_memory_by_category");
            for (int c = 0; c < TS_MEM_CATEGORIES; c++)
                cJSON_AddNumberToObject(cat, ts_mem_category_name((ts_mem_category)c),
                                        (double)be->category_peak[c]);
            cJSON_AddNumberToObject(j, "max_buffer_bytes", (double)be->max_buffer_bytes);
            cJSON_AddNumberToObject(
                j, "activation_buffers",
                (double)ts_model_activation_buffers(&cfg, B, T, be->max_buffer_bytes, NULL));
            /* what a step costs besides arithmetic: ops, device launches (kernels, fills,
             * copies), times the host blocked on the device (backend.h says what counts) */
            double per = (double)steps * repeat;
            cJSON_AddNumberToObject(j, "ops_per_step", (double)(be->ops - ops0) / per);
            cJSON_AddNumberToObject(j, "dispatches_per_step",
                                    (double)(be->dispatches - dispatches0) / per);
            cJSON_AddNumberToObject(j, "host_waits_per_step",
                                    (double)(be->host_waits - waits0) / per);
            /* device submissions per training step, where the API batches work (vulkan) */
            if (be->submissions)
                cJSON_AddNumberToObject(j, "submissions_per_step",
                                        (double)(be->submissions - submits0) / per);
            else
                cJSON_AddNullToObject(j, "submissions_per_step");
            /* device ms per step by op family, where the backend times them (vulkan with
             * TUNESCALE_VK_TIMESTAMPS=1); null otherwise */
            cJSON *ops = NULL;
            char tbuf[1024];
            if (be->iface->timings && be->iface->timings(be, tbuf, sizeof tbuf) > 0)
                ops = cJSON_Parse(tbuf);
            for (cJSON *o = ops ? ops->child : NULL; o; o = o->next)
                cJSON_SetNumberValue(o, o->valuedouble / per);
            if (ops)
                cJSON_AddItemToObject(j, "op_time_ms", ops);
            else
                cJSON_AddNullToObject(j, "op_time_ms");
            cJSON_AddNumberToObject(j, "last_loss", loss_last);
            /* LSTM: which recurrent path ran, and why the persistent kernel did not */
            const char *why = NULL, *lstm_path = ts_lstm_path(m, &why);
            if (lstm_path) {
                cJSON_AddStringToObject(j, "lstm_path", lstm_path);
                cJSON_AddStringToObject(j, "lstm_persistent", why);
            }
            rc = ts_cli_print_json("bench step", j);
            cJSON_Delete(j);
        } else {
            printf("bench step: %s on %s (%s, %d threads, %s), batch %d x %d: %.0f tok/s, "
                   "%.1f ms/step, peak memory %.1f MiB\n",
                   cfg.name, backend, d.name, d.threads, ts_precision_name(be->precision), B, T,
                   tok_s, 1e3 * dt / steps, (double)be->peak_bytes / (1 << 20));
            const char *why = NULL, *lstm_path = ts_lstm_path(m, &why);
            if (lstm_path) printf("  lstm path: %s (persistent kernel: %s)\n", lstm_path, why);
            if (repeat > 1)
                printf("  median of %d repeats of %d steps: %.0f tok/s, range [%.0f, %.0f] "
                       "(spread %.1f%%), load average %.2f before, %.2f after\n",
                       repeat, steps, rs.median, rs.min, rs.max, 100 * rs.spread, load0, load1);
        }
    }
    free(x);
    free(y);
    ts_model_free(m);
    ts_backend_destroy(be);
    return rc;
}

/* `bench gemm`: C = A B^T-style products of the shapes the models use, timed after a warm-up,
 * reported as GFLOP/s (2*M*N*K per product). On the GPU backends each shape also runs under
 * the built-in kernel (CLBlast / gemm.comp), our tiled kernel, and the untuned plan, so one
 * table shows the chosen kernel beside the others and what tuning gained. */
typedef struct {
    ts_gemm_shape s[64];
    int n, given; /* the first --size replaces the defaults */
} gemm_shapes;

/* --size MxNxK, repeatable. */
static int gemm_size(const char *v, void *dest) {
    gemm_shapes *g = dest;
    if (!g->given) g->n = 0, g->given = 1;
    int used = 0, M, N, K, ta = 0, tb = 1;
    /* an optional transpose prefix: nn: nt: tn: tt: (default nt, the forward product) */
    if (strlen(v) > 3 && strchr("nt", v[0]) && strchr("nt", v[1]) && v[2] == ':') {
        ta = v[0] == 't';
        tb = v[1] == 't';
        v += 3;
    }
    if (g->n >= 64 || sscanf(v, "%dx%dx%d%n", &M, &N, &K, &used) != 3 || v[used] || M <= 0 ||
        N <= 0 || K <= 0)
        return 0;
    g->s[g->n++] = (ts_gemm_shape){ta, tb, M, N, K, 1, 0.0f, 0, ""};
    return 1;
}

static void gemm_usage(FILE *out) {
    fprintf(out,
            "usage: tunescale bench gemm --backend B [--size [TT:]MxNxK ...] [--model-shapes] "
            "[--reps N] [--threads N] [--device N] [--json]\n"
            "                  [--precision fp32|tf32|bf16|fp16]\n\nTimes C (MxN) = A (MxK) B^T "
            "(KxN) products after a warm-up (TT: nn, nt, tn or tt sets the transposes of A and\nB; "
            "nt by default); default shapes are the Transformer-1M/5M "
            "linear layers at 4096 tokens and a 1024 cube. --model-shapes\ntimes every "
            "product of the presets `tunescale tune` tunes for, at full size (with\ntheir "
            "transposes and batches). On opencl and vulkan each shape also runs under the\n"
            "built-in kernel (CLBlast, gemm.comp), our tiled kernel and the untuned plan.\n");
}

/* GFLOP/s of s under choice c (NULL: the plan's pick); 0 with *st set on failure. */
static double gemm_rate(ts_backend *be, const ts_gemm_shape *s, const ts_gemm_choice *c, int reps,
                        ts_status *st, double *ms) {
    if (*st != TS_OK) return 0;
    double t = ts_gemm_time(be, s, c, reps);
    if (t < 0) {
        *st = TS_ERR;
        return 0;
    }
    if (ms) *ms = 1e3 * t;
    return ts_gemm_flops(s) / t / 1e9;
}

static int gemm_bench(int argc, char **argv) {
    ts_cli_backend bk = {"cpu", 0, {0}};
    int reps = 10, json = 0, model_shapes = 0, first;
    gemm_shapes g = {{{0, 1, 4096, 512, 128, 1, 0.0f, 0, ""},
                      {0, 1, 4096, 128, 512, 1, 0.0f, 0, ""},
                      {0, 1, 4096, 1024, 256, 1, 0.0f, 0, ""},
                      {0, 1, 1024, 1024, 1024, 1, 0.0f, 0, ""}},
                     4,
                     0};
    const ts_cli_opt opts[] = {TS_OPT_FN("size", gemm_size, &g),
                               TS_OPT("model-shapes", TS_ARG_ON, &model_shapes),
                               TS_OPT_NUM("reps", TS_ARG_INT, &reps, 1, 100000),
                               TS_OPT("json", TS_ARG_ON, &json),
                               TS_OPT_FN("precision", ts_cli_precision, &bk.o.precision),
                               TS_OPT_END};
    const ts_cli_spec spec = {"bench gemm", opts, &bk, 0, gemm_usage, 0};
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    if (model_shapes) g.n = ts_gemm_model_shapes(g.s, 64);
    const char *backend = bk.backend;
    ts_backend *be;
    ts_status bst = ts_backend_create(backend, &bk.o, &be);
    if (bst != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        return ts_exit_code(bst);
    }
    /* a reduced precision runs its own kernels: no side-by-side of the fp32 plan's choices */
    ts_gemm_plan *plan = be->precision == TS_PREC_FP32 ? ts_gemm_plan_of(be) : NULL;
    const char *builtin = !strcmp(backend, "opencl") ? "clblast" : "builtin";
    int variant_tuned = 0;
    for (int c = 0; plan && c < TS_GEMM_CLASSES; c++)
        variant_tuned |= plan->cls[c].kernel == TS_GEMM_BUILTIN && plan->cls[c].variant > 0;
    if (plan && !json)
        printf("bench gemm: %s plan %s%s (tunescale tune --backend %s)\n", backend,
               plan->tuned ? "tuned" : "untuned: defaults from device facts",
               variant_tuned && plan->variants_exclusive ? ", CLBlast with tuned parameters" : "",
               backend);
    if (plan && !json && variant_tuned && plan->variant_names)
        printf("bench gemm: built-in variants: %s\n", plan->variant_names);
    ts_status st = TS_OK;
    /* the untuned plan first: CLBlast cannot go back to its own parameters once the tuned
     * ones were applied (backends/opencl/opencl_gemm.c) */
    double untuned[64] = {0};
    /* where the plan's variants mix freely (Vulkan), the untuned and the tuned plan alternate
     * per shape instead, best of three each: other work on the machine weighs on both alike */
    int alternate = plan && plan->tuned && !plan->variants_exclusive;
    for (int i = 0; plan && plan->tuned && !alternate && i < g.n && st == TS_OK; i++) {
        ts_gemm_class cls = ts_gemm_classify(g.s[i].M, g.s[i].N, g.s[i].K, g.s[i].batch);
        untuned[i] = gemm_rate(be, &g.s[i], &plan->untuned[cls], reps, &st, NULL);
    }
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < g.n && st == TS_OK; i++) {
        const ts_gemm_shape *s = &g.s[i];
        double ms = 0, gflops = 0;
        for (int r = 0; r < (alternate ? 3 : 1) && st == TS_OK; r++) {
            ts_gemm_class cu = ts_gemm_classify(s->M, s->N, s->K, s->batch);
            double m = 0, u = alternate ? gemm_rate(be, s, &plan->untuned[cu], reps, &st, NULL) : 0;
            double t = gemm_rate(be, s, NULL, reps, &st, &m);
            if (u > untuned[i]) untuned[i] = u;
            if (t > gflops) gflops = t, ms = m;
        }
        if (st != TS_OK) break;
        int ran_variant = plan ? plan->ran_variant : -1; /* Vulkan: the block that ran */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "backend", backend);
        cJSON_AddStringToObject(o, "precision", ts_precision_name(be->precision));
        if (s->what[0]) cJSON_AddStringToObject(o, "what", s->what);
        cJSON_AddNumberToObject(o, "M", s->M);
        cJSON_AddNumberToObject(o, "N", s->N);
        cJSON_AddNumberToObject(o, "K", s->K);
        cJSON_AddNumberToObject(o, "ta", s->ta);
        cJSON_AddNumberToObject(o, "tb", s->tb);
        cJSON_AddNumberToObject(o, "batch", s->batch);
        cJSON_AddNumberToObject(o, "gflops", gflops);
        cJSON_AddNumberToObject(o, "ms", ms);
        cJSON_AddItemToArray(arr, o);
        char line[256];
        int used = snprintf(line, sizeof line, "bench gemm: %s %s %s%s%dx%dx%d", backend,
                            ts_precision_name(be->precision), s->ta ? "t" : "n", s->tb ? "t" : "n",
                            s->M, s->N, s->K);
        if (s->batch > 1) used += snprintf(line + used, sizeof line - used, " x%d", s->batch);
        if (!plan) {
            if (!json) printf("%s: %.1f GFLOP/s (%.3f ms)\n", line, gflops, ms);
            continue;
        }
        ts_gemm_class cls = ts_gemm_classify(s->M, s->N, s->K, s->batch);
        ts_gemm_choice chosen = ts_gemm_pick(plan, s->M, s->N, s->K, s->batch);
        /* CLBlast under the class's tuned parameters, if it has any */
        ts_gemm_choice in = {TS_GEMM_BUILTIN, 0, 1,
                             chosen.kernel == TS_GEMM_BUILTIN ? chosen.variant : 0};
        char kname[32], oname[32];
        ts_gemm_choice_name(&chosen, kname, sizeof kname);
        ts_gemm_choice_name(&plan->ours[cls], oname, sizeof oname);
        double gb = gemm_rate(be, s, &in, reps, &st, NULL);
        double go = gemm_rate(be, s, &plan->ours[cls], reps, &st, NULL);
        double gu = plan->tuned ? untuned[i] : gflops;
        if (st != TS_OK) break;
        cJSON_AddStringToObject(o, "class", ts_gemm_class_name(cls));
        if (chosen.kernel == TS_GEMM_BUILTIN && plan->variants && !plan->variants_exclusive) {
            /* a product the variants cannot take (unaligned: the scalar shader) says so */
            cJSON_AddNumberToObject(o, "ran_variant", ran_variant);
            if (ran_variant < 0) snprintf(kname, sizeof kname, "builtin scalar");
        }
        cJSON_AddStringToObject(o, "kernel", kname);
        cJSON_AddNumberToObject(o, !strcmp(backend, "opencl") ? "clblast_gflops" : "builtin_gflops",
                                gb);
        cJSON_AddStringToObject(o, "ours_kernel", oname);
        cJSON_AddNumberToObject(o, "ours_gflops", go);
        cJSON_AddBoolToObject(o, "tuned", plan->tuned);
        cJSON_AddNumberToObject(o, "untuned_gflops", gu);
        cJSON_AddNumberToObject(o, "tuned_over_untuned", gu > 0 ? gflops / gu : 0);
        if (!json)
            printf("%s: %.1f GFLOP/s (%.3f ms) [%s, %s]  %s %.1f  ours(%s) %.1f  untuned %.1f  "
                   "tuned/untuned %.2fx\n",
                   line, gflops, ms, ts_gemm_class_name(cls), kname, builtin, gb, oname, go, gu,
                   gu > 0 ? gflops / gu : 0);
    }
    if (json && st == TS_OK) {
        ts_cli_print_json("bench gemm", arr);
    }
    cJSON_Delete(arr);
    ts_backend_destroy(be);
    if (st != TS_OK) fprintf(stderr, "tunescale: %s\n", ts_last_error());
    return ts_exit_code(st);
}

/* ---- bench peak: measured device ceilings ------------------------------------------------ */

/* Work-items of the FMA kernel: enough to fill any current device (an H100 holds ~270k
 * resident threads), and a 4 MiB output. */
#define PEAK_ITEMS ((size_t)1 << 20)
/* Floats per copy buffer: 64 MiB each way, past the last-level caches of CPUs and GPUs. */
#define PEAK_COPY_N ((size_t)16 << 20)

/* Seconds for one FMA run of `iters` rounds (queued, then waited for). */
static double time_fma(ts_backend *be, ts_tensor out, int iters, ts_status *st) {
    double t0 = ts_now();
    be->iface->peak_fma(be, out, PEAK_ITEMS, iters);
    *st = ts_backend_sync(be);
    return ts_now() - t0;
}

/* Seconds for `count` back-to-back copies of PEAK_COPY_N floats. */
static double time_copy(ts_backend *be, ts_tensor dst, ts_tensor src, int count, ts_status *st) {
    double t0 = ts_now();
    for (int i = 0; i < count; i++)
        be->iface->peak_copy(be, dst, src, PEAK_COPY_N);
    *st = ts_backend_sync(be);
    return ts_now() - t0;
}

/* Doubles *work until one timed run lasts at least `target` seconds (so launch overhead and
 * timer resolution vanish), then returns the best of `reps` runs at that size. The first run
 * is a warm-up (pipeline builds, page faults, clocks ramping up) and is not counted. */
static double calibrate_best(ts_backend *be, ts_tensor a, ts_tensor b, int is_fma, int *work,
                             double target, int reps, ts_status *st) {
    double dt = is_fma ? time_fma(be, a, *work, st) : time_copy(be, a, b, *work, st);
    for (int guard = 0; *st == TS_OK && guard < 30; guard++) {
        dt = is_fma ? time_fma(be, a, *work, st) : time_copy(be, a, b, *work, st);
        if (dt >= target || *work > (1 << 26)) break;
        /* Jump most of the way at once, but at most 16x: the first runs may be noisy. */
        double f = dt > 0 ? 1.2 * target / dt : 16.0;
        *work = (int)(*work * (f < 2.0 ? 2.0 : f > 16.0 ? 16.0 : f));
    }
    double best = dt;
    for (int r = 1; r < reps && *st == TS_OK; r++) {
        dt = is_fma ? time_fma(be, a, *work, st) : time_copy(be, a, b, *work, st);
        if (dt < best) best = dt;
    }
    return best;
}

static void peak_usage(FILE *out) {
    fprintf(out,
            "usage: tunescale bench peak --backend B [--device N] [--threads N] "
            "[--seconds S | --quick]\n"
            "                            [--reps R] [--json]\n\n"
            "Measures the device's FP32 peak (a kernel of long independent FMA chains "
            "over %zu\nwork-items) and its memory bandwidth (a copy of %zu MiB: bytes "
            "read + written per\nsecond), each the best of R timed runs after a warm-up; "
            "about S seconds in all\n(default 4, --quick 0.5 with R = 3). Prints the "
            "nominal peak beside the measured one\nand records the figures in "
            "$TUNESCALE_CACHE/peak/ (else $XDG_CACHE_HOME/tunescale or\n"
            "~/.cache/tunescale), where training runs read them for MFU.\n",
            PEAK_ITEMS, PEAK_COPY_N * 4 >> 20);
}

static int peak_bench(int argc, char **argv) {
    ts_cli_backend bk = {"cpu", 0, {0}};
    int reps = 5, json = 0, quick = 0, first, reps_given = 0, seconds_given = 0;
    double seconds = 4.0;
    const ts_cli_opt opts[] = {
        {"seconds", 0, TS_ARG_DOUBLE, &seconds, 1e-9, 3600, NULL, &seconds_given},
        {"reps", 0, TS_ARG_INT, &reps, 1, 100000, NULL, &reps_given},
        TS_OPT("quick", TS_ARG_ON, &quick),
        TS_OPT("json", TS_ARG_ON, &json),
        TS_OPT_END};
    const ts_cli_spec spec = {"bench peak", opts, &bk, 0, peak_usage, 0};
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    if (quick && !seconds_given) seconds = 0.5; /* --quick: what was not given explicitly */
    if (quick && !reps_given) reps = 3;
    const char *backend = bk.backend;
    ts_backend *be;
    ts_status st = ts_backend_create(backend, &bk.o, &be);
    if (st != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        return ts_exit_code(st); /* e.g. no device N here: a runtime failure */
    }
    if (!be->iface->peak_fma || !be->iface->peak_copy)
        st = ts_set_error("the %s backend has no peak kernels", backend);
    ts_buffer *out = NULL, *src = NULL, *dst = NULL;
    if (st == TS_OK) st = ts_buffer_alloc(be, PEAK_ITEMS * 4, &out);
    if (st == TS_OK) st = ts_buffer_alloc(be, PEAK_COPY_N * 4, &src);
    if (st == TS_OK) st = ts_buffer_alloc(be, PEAK_COPY_N * 4, &dst);
    ts_tensor to = {out, 0}, ts = {src, 0}, td = {dst, 0};
    if (st == TS_OK) be->iface->fill(be, ts, 1.0f, PEAK_COPY_N);
    /* Two measurements, each with a warm-up, calibration runs and reps timed runs. */
    double target = seconds / (2.0 * (reps + 4));
    int iters = 8, copies = 1;
    double t_fma = 0, t_copy = 0;
    if (st == TS_OK) t_fma = calibrate_best(be, to, to, 1, &iters, target, reps, &st);
    if (st == TS_OK) t_copy = calibrate_best(be, td, ts, 0, &copies, target, reps, &st);
    /* A kernel the compiler gutted would time nothing: check what it computed. Item 0's chains
     * start at j/16 and approach 1, so their sum lies in (0, 16]; the copy moved the 1s. */
    float probe[2] = {0, 0};
    if (st == TS_OK) st = be->iface->download(be, &probe[0], to, 4);
    if (st == TS_OK) st = be->iface->download(be, &probe[1], ts_view(td, PEAK_COPY_N - 1), 4);
    if (st == TS_OK && !(probe[0] > 0.0f && probe[0] <= 16.0f && probe[1] == 1.0f))
        st = ts_set_error("peak kernels on %s computed %g and %g (expected (0, 16] and 1): timing "
                          "void",
                          backend, probe[0], probe[1]);
    rc = 0;
    if (st == TS_OK) {
        ts_device_info d;
        memset(&d, 0, sizeof d);
        be->iface->device_info(be, &d);
        double gflops = 32.0 * (double)PEAK_ITEMS * iters / t_fma / 1e9;
        double bytes = 2.0 * 4.0 * (double)PEAK_COPY_N * copies, gbs = bytes / t_copy / 1e9;
        char path[4096];
        int have_path = ts_peak_cache_path(backend, d.name, path, sizeof path);
        ts_status cst = ts_peak_cache_store(backend, d.name, gflops, gbs);
        if (cst != TS_OK)
            fprintf(stderr, "tunescale: warning: peak not recorded: %s\n", ts_last_error());
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "bench", "peak");
            cJSON_AddStringToObject(j, "backend", backend);
            cJSON_AddStringToObject(j, "device", d.name);
            cJSON_AddNumberToObject(j, "threads", d.threads);
            cJSON_AddNumberToObject(j, "gflops", gflops);
            cJSON_AddNumberToObject(j, "gbs", gbs);
            if (d.peak_gflops > 0)
                cJSON_AddNumberToObject(j, "nominal_gflops", d.peak_gflops);
            else
                cJSON_AddNullToObject(j, "nominal_gflops");
            cJSON *f = cJSON_AddObjectToObject(j, "fma");
            cJSON_AddNumberToObject(f, "items", (double)PEAK_ITEMS);
            cJSON_AddNumberToObject(f, "iters", iters);
            cJSON_AddNumberToObject(f, "flops", 32.0 * (double)PEAK_ITEMS * iters);
            cJSON_AddNumberToObject(f, "seconds", t_fma);
            cJSON *cp = cJSON_AddObjectToObject(j, "copy");
            cJSON_AddNumberToObject(cp, "buffer_bytes", 4.0 * (double)PEAK_COPY_N);
            cJSON_AddNumberToObject(cp, "copies", copies);
            cJSON_AddNumberToObject(cp, "bytes", bytes);
            cJSON_AddNumberToObject(cp, "seconds", t_copy);
            cJSON_AddNumberToObject(j, "reps", reps);
            if (cst == TS_OK && have_path)
                cJSON_AddStringToObject(j, "cache_file", path);
            else
                cJSON_AddNullToObject(j, "cache_file");
            rc = ts_cli_print_json("bench peak", j);
            cJSON_Delete(j);
        } else {
            printf("bench peak: %s on %s\n", backend, d.name);
            if (d.peak_gflops > 0)
                printf("  FP32     %10.1f GFLOP/s measured, %.1f nominal (%.0f%%)\n", gflops,
                       d.peak_gflops, 100.0 * gflops / d.peak_gflops);
            else
                printf("  FP32     %10.1f GFLOP/s measured, nominal unknown\n", gflops);
            printf("  copy     %10.1f GB/s (read + written)\n", gbs);
            if (cst == TS_OK && have_path) printf("  recorded in %s\n", path);
        }
    } else {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        rc = ts_exit_code(st);
    }
    ts_buffer_free(be, out);
    ts_buffer_free(be, src);
    ts_buffer_free(be, dst);
    ts_backend_destroy(be);
    return rc;
}

int cmd_bench(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "step")) return step_bench(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "gemm")) return gemm_bench(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "peak")) return peak_bench(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "sample")) return cmd_bench_sample(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "tunescale bench: %s (bench step, gemm, peak or sample)\n",
            argc >= 2 ? "not implemented yet" : "which benchmark?");
    return 2;
}
