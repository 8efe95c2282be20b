/*
 * cmd_bench.c — `tunescale bench step`: tokens/s and peak memory of full training steps
 * (forward, backward, clip, AdamW) on random tokens, after warm-up steps. The peer script in
 * bench/peer/ runs the same steps in PyTorch so the two can be compared in one invocation.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "cli/commands.h"
#include "model/model.h"
#include "util/philox.h"
#include "util/progress.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale bench step --backend B --model NAME [--batch B] [--steps N]\n"
            "                            [--seq-len T] [--warmup W] [--threads N] [--vocab V]\n"
            "                            [--device N] [--mem-limit SIZE] [--json]\n\n"
            "Times N full training steps (forward, backward, grad-norm clip, AdamW) of MODEL\n"
            "on random tokens after W warm-up steps; prints tokens/s, ms/step and peak device\n"
            "memory. Defaults: batch 16, steps 20, seq-len 256, warmup 3, vocab 100.\n"
            "(tunescale bench gemm --help: matrix products; bench peak arrives with the\n"
            "benchmark-harness issue.)\n");
}

static int step_bench(int argc, char **argv) {
    static const struct option opts[] = {{"backend", 1, 0, 'b'},
                                         {"model", 1, 0, 'm'},
                                         {"batch", 1, 0, 'B'},
                                         {"steps", 1, 0, 's'},
                                         {"seq-len", 1, 0, 'T'},
                                         {"warmup", 1, 0, 'w'},
                                         {"threads", 1, 0, 'j'},
                                         {"vocab", 1, 0, 'V'},
                                         {"device", 1, 0, 'D'},
                                         {"mem-limit", 1, 0, 'M'},
                                         {"json", 0, 0, 'J'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *backend = "cpu", *model_name = NULL;
    int B = 16, steps = 20, T = 256, warmup = 3, threads = 0, vocab = 100, device = 0, json = 0;
    size_t mem_limit = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        int *ip = NULL;
        switch (c) {
        case 'b':
            backend = optarg;
            break;
        case 'm':
            model_name = optarg;
            break;
        case 'B':
            ip = &B;
            break;
        case 's':
            ip = &steps;
            break;
        case 'T':
            ip = &T;
            break;
        case 'w':
            ip = &warmup;
            break;
        case 'j':
            ip = &threads;
            break;
        case 'V':
            ip = &vocab;
            break;
        case 'D':
            ip = &device;
            break;
        case 'M':
            if (!ts_parse_size(optarg, &mem_limit)) {
                fprintf(stderr, "tunescale bench step: bad --mem-limit '%s'\n", optarg);
                return 2;
            }
            break;
        case 'J':
            json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "tunescale bench step: bad option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
        if (ip) {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 1000000 ||
                (ip != &threads && ip != &warmup && ip != &device && v == 0)) {
                fprintf(stderr, "tunescale bench step: bad value '%s' for %s\n", optarg,
                        argv[optind - 1]);
                return 2;
            }
            *ip = (int)v;
        }
    }
    if (!model_name) {
        fprintf(stderr, "tunescale bench step: --model is required (see --help)\n");
        return 2;
    }
    ts_model_config cfg;
    if (ts_model_config_lookup(model_name, &cfg) != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        return 2;
    }
    cfg.vocab_size = vocab;
    ts_backend_options bo = {device, threads, mem_limit};
    ts_backend *be = NULL;
    ts_model *m = NULL;
    ts_status st = ts_backend_create(backend, &bo, &be);
    if (st == TS_OK) st = ts_model_create(&cfg, be, &m);
    if (st == TS_OK) st = ts_model_reserve(m, B, T);
    if (st == TS_OK) st = ts_model_init_params(m, 1);
    int32_t *x = malloc((size_t)B * T * 4), *y = malloc((size_t)B * T * 4);
    ts_rng rng;
    ts_rng_init(&rng, 1, 0x42454e43u);
    double t0 = 0, loss_last = 0;
    unsigned long submits0 = 0;
    for (int s = 0; st == TS_OK && s < warmup + steps; s++) {
        if (s == warmup) {
            t0 = ts_now();
            submits0 = be->submissions;
        }
        for (int i = 0; i < B * T; i++) {
            x[i] = 4 + (int32_t)ts_rng_below(&rng, (uint32_t)vocab - 4);
            y[i] = 4 + (int32_t)ts_rng_below(&rng, (uint32_t)vocab - 4);
        }
        float loss, norm;
        st = ts_model_zero_grad(m);
        if (st == TS_OK) st = ts_model_forward(m, x, y, B, T, 1, 1, (uint32_t)s);
        if (st == TS_OK) st = ts_model_backward(m, 1, (uint32_t)s);
        if (st == TS_OK) st = ts_model_grad_norm(m, &norm);
        if (st == TS_OK) st = ts_model_loss(m, &loss, NULL, NULL);
        float coef = 1.0f / (norm + 1e-6f);
        if (st == TS_OK)
            st = ts_model_adamw(m, 3e-4, 0.9, 0.999, 1e-8, 0.01, s + 1, coef < 1 ? coef : 1);
        if (st == TS_OK) st = ts_backend_sync(be);
        loss_last = loss;
    }
    double dt = ts_now() - t0;
    int rc = 0;
    if (st != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        rc = st == TS_ENOMEM ? 3 : st == TS_EUSAGE ? 2 : 1;
    } else {
        ts_device_info d;
        memset(&d, 0, sizeof d);
        be->iface->device_info(be, &d);
        double tok_s = (double)B * T * steps / dt;
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "bench", "step");
            cJSON_AddStringToObject(j, "backend", backend);
            cJSON_AddStringToObject(j, "device", d.name);
            cJSON_AddNumberToObject(j, "threads", d.threads);
            cJSON_AddStringToObject(j, "model", cfg.name);
            cJSON_AddNumberToObject(j, "params", (double)m->n_params);
            cJSON_AddNumberToObject(j, "batch", B);
            cJSON_AddNumberToObject(j, "seq_len", T);
            cJSON_AddNumberToObject(j, "steps", steps);
            cJSON_AddNumberToObject(j, "tokens_per_s", tok_s);
            cJSON_AddNumberToObject(j, "ms_per_step", 1e3 * dt / steps);
            cJSON_AddNumberToObject(j, "peak_memory_bytes", (double)be->peak_bytes);
            /* device submissions per training step, where the API batches work (vulkan) */
            if (!strcmp(backend, "vulkan"))
                cJSON_AddNumberToObject(j, "submissions_per_step",
                                        (double)(be->submissions - submits0) / steps);
            else
                cJSON_AddNullToObject(j, "submissions_per_step");
            cJSON_AddNumberToObject(j, "last_loss", loss_last);
            char *s = cJSON_Print(j);
            printf("%s\n", s);
            free(s);
            cJSON_Delete(j);
        } else {
            printf("bench step: %s on %s (%s, %d threads), batch %d x %d: %.0f tok/s, %.1f "
                   "ms/step, peak memory %.1f MiB\n",
                   cfg.name, backend, d.name, d.threads, B, T, tok_s, 1e3 * dt / steps,
                   (double)be->peak_bytes / (1 << 20));
        }
    }
    free(x);
    free(y);
    ts_model_free(m);
    ts_backend_destroy(be);
    return rc;
}

/* `bench gemm`: C = A B^T-style products of the shapes the models use, timed after a warm-up,
 * reported as GFLOP/s (2*M*N*K per product). */
static int gemm_bench(int argc, char **argv) {
    static const struct option opts[] = {
        {"backend", 1, 0, 'b'}, {"device", 1, 0, 'D'}, {"threads", 1, 0, 'j'}, {"size", 1, 0, 's'},
        {"reps", 1, 0, 'r'},    {"json", 0, 0, 'J'},   {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
    const char *backend = "cpu";
    int device = 0, threads = 0, reps = 10, json = 0, c;
    int shapes[8][3] = {{4096, 512, 128}, {4096, 128, 512}, {4096, 1024, 256}, {1024, 1024, 1024}};
    int n_shapes = 4;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            backend = optarg;
            break;
        case 'D':
            device = atoi(optarg);
            break;
        case 'j':
            threads = atoi(optarg);
            break;
        case 'r':
            reps = atoi(optarg);
            break;
        case 'J':
            json = 1;
            break;
        case 's':
            if (n_shapes == 4) n_shapes = 0; /* the first --size replaces the defaults */
            if (n_shapes < 8 &&
                sscanf(optarg, "%dx%dx%d", &shapes[n_shapes][0], &shapes[n_shapes][1],
                       &shapes[n_shapes][2]) == 3 &&
                shapes[n_shapes][0] > 0 && shapes[n_shapes][1] > 0 && shapes[n_shapes][2] > 0) {
                n_shapes++;
                break;
            }
            fprintf(stderr, "tunescale bench gemm: --size takes MxNxK (got '%s')\n", optarg);
            return 2;
        case 'h':
            printf("usage: tunescale bench gemm --backend B [--size MxNxK ...] [--reps N] "
                   "[--threads N] [--device N] [--json]\n\nTimes C (MxN) = A (MxK) B^T (KxN) "
                   "products after a warm-up; default shapes are the\nTransformer-1M/5M linear "
                   "layers at 4096 tokens and a 1024 cube.\n");
            return 0;
        default:
            fprintf(stderr, "tunescale bench gemm: bad option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    ts_backend_options bo = {device, threads, 0};
    ts_backend *be;
    if (ts_backend_create(backend, &bo, &be) != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        return 2;
    }
    cJSON *arr = cJSON_CreateArray();
    ts_status st = TS_OK;
    for (int i = 0; i < n_shapes && st == TS_OK; i++) {
        int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
        ts_buffer *a = NULL, *b = NULL, *cc = NULL;
        st = ts_buffer_alloc(be, (size_t)M * K * 4, &a);
        if (st == TS_OK) st = ts_buffer_alloc(be, (size_t)N * K * 4, &b);
        if (st == TS_OK) st = ts_buffer_alloc(be, (size_t)M * N * 4, &cc);
        ts_tensor ta = {a, 0}, tb = {b, 0}, tc = {cc, 0};
        if (st == TS_OK) {
            be->iface->fill(be, ta, 0.5f, (size_t)M * K);
            be->iface->fill(be, tb, 0.25f, (size_t)N * K);
            be->iface->gemm(be, 0, 1, M, N, K, 1.0f, ta, K, 0, tb, K, 0, 0.0f, tc, N, 0, 1);
            st = ts_backend_sync(be);
        }
        double t0 = ts_now();
        for (int r = 0; r < reps && st == TS_OK; r++)
            be->iface->gemm(be, 0, 1, M, N, K, 1.0f, ta, K, 0, tb, K, 0, 0.0f, tc, N, 0, 1);
        if (st == TS_OK) st = ts_backend_sync(be);
        double dt = ts_now() - t0, gflops = 2.0 * M * N * (double)K * reps / dt / 1e9;
        float probe = 0;
        if (st == TS_OK) st = be->iface->download(be, &probe, tc, sizeof probe);
        if (st == TS_OK && fabsf(probe - 0.125f * (float)K) > 1e-3f * (float)K)
            st = ts_set_error("gemm on %s gave %g, expected %g: wrong result, timing void", backend,
                              probe, 0.125 * K);
        if (st == TS_OK) {
            if (!json)
                printf("bench gemm: %s %dx%dx%d: %.1f GFLOP/s (%.3f ms)\n", backend, M, N, K,
                       gflops, 1e3 * dt / reps);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "backend", backend);
            cJSON_AddNumberToObject(o, "M", M);
            cJSON_AddNumberToObject(o, "N", N);
            cJSON_AddNumberToObject(o, "K", K);
            cJSON_AddNumberToObject(o, "gflops", gflops);
            cJSON_AddNumberToObject(o, "ms", 1e3 * dt / reps);
            cJSON_AddItemToArray(arr, o);
        }
        ts_buffer_free(be, a);
        ts_buffer_free(be, b);
        ts_buffer_free(be, cc);
    }
    if (json && st == TS_OK) {
        char *s = cJSON_Print(arr);
        printf("%s\n", s);
        free(s);
    }
    cJSON_Delete(arr);
    ts_backend_destroy(be);
    if (st != TS_OK) fprintf(stderr, "tunescale: %s\n", ts_last_error());
    return st == TS_OK ? 0 : st == TS_ENOMEM ? 3 : 1;
}

int cmd_bench(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "step")) return step_bench(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "gemm")) return gemm_bench(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr,
            "tunescale bench: %s ('bench step' and 'bench gemm' so far; 'bench peak' arrives "
            "with the benchmark-harness issue)\n",
            argc >= 2 ? "not implemented yet" : "which benchmark?");
    return 2;
}
