/*
 * cmd_tune.c — `tunescale tune --backend B [--device N] [--budget SECONDS] [--json]`: times
 * the GEMM configurations this build can run on the products of the preset models, keeps the
 * fastest per shape class and writes the tuning file every later run of that device loads
 * (backends/gemm_plan.h, src/tune/gemm_tune.h).
 */
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/gemm_plan.h"
#include "cli/cli_args.h"
#include "cli/cli_backend_opts.h"
#include "cli/commands.h"
#include "tune/gemm_tune.h"
#include "util/progress.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale tune --backend opencl|vulkan [--device N] [--budget SECONDS] "
            "[--json]\n\n"
            "Times every GEMM configuration the backend can run (its built-in kernel: CLBlast\n"
            "or gemm.comp / gemm_direct; on OpenCL also CLBlast under each of its parameter\n"
            "sets that fits the device, on CPU Vulkan devices each register block of\n"
            "gemm_direct4; our tiled kernel with each tile shape and split-K factor) on the\n"
            "products the preset models run (forward, input and weight gradients, attention,\n"
            "recurrent; batch 64, transformer-100M 32), scaled down so the search fits the\n"
            "budget, and keeps the fastest per shape class (regular, skinny, deepk, batched).\n"
            "The result goes to <cache>/tune/<backend>-<device>.json, keyed by device, driver\n"
            "and tunescale version; every later run on that device loads it.\n\n"
            "options:\n"
            "  --budget S   wall-clock seconds for the whole command (default 60), kernel\n"
            "               builds included: no trial starts that would end past it (but the\n"
            "               first); what it left out is listed\n"
            "  --json       the classes, winners and every timed trial as JSON on stdout\n"
            "Progress with an ETA goes to stderr.\n\n"
            "exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 out of memory\n");
}

/* "    not tried within the budget: tiled t3, tiled t4" (nothing when all were tried) */
static void print_not_tried(const cJSON *names) {
    int n = cJSON_GetArraySize(names), i = 0;
    if (n == 0) return;
    printf("           not tried within the budget (%d):", n);
    const cJSON *s;
    cJSON_ArrayForEach(s, names) printf("%s %s", i++ ? "," : "", s->valuestring);
    printf("\n");
}

int cmd_tune(int argc, char **argv) {
    ts_cli_backend bk = {NULL, 0, {0}};
    double budget = 60;
    int json = 0, first;
    const ts_cli_opt opts[] = {TS_OPT_NUM("budget", TS_ARG_DOUBLE, &budget, 1, 86400),
                               TS_OPT("json", TS_ARG_ON, &json), TS_OPT_END};
    const ts_cli_spec spec = {"tune", opts, &bk, 0, usage, 0};
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    rc = 0;
    if (!bk.backend || !strcmp(bk.backend, "cpu")) {
        fprintf(stderr, "tunescale tune: --backend opencl|vulkan is required (the cpu "
                        "backend's GEMM is OpenBLAS, tuned by its own build)\n");
        return 2;
    }
    double start = ts_now(); /* the budget covers everything from here, builds included */
    ts_backend *be;
    ts_status st = ts_backend_create(bk.backend, &bk.o, &be);
    if (st != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        return ts_exit_code(st);
    }
    ts_device_info info;
    be->iface->device_info(be, &info);
    ts_gemm_plan *plan = ts_gemm_plan_of(be);
    if (!plan) {
        fprintf(stderr, "tunescale tune: the %s backend has no GEMM plan to tune\n", bk.backend);
        ts_backend_destroy(be);
        return 2;
    }
    fprintf(stderr, "tune: %s on %s, budget %.0f s\n", bk.backend, info.name, budget);
    cJSON *report = cJSON_CreateObject();
    cJSON_AddStringToObject(report, "backend", bk.backend);
    cJSON_AddStringToObject(report, "device", info.name);
    cJSON_AddStringToObject(report, "driver", info.driver);
    double gflops[TS_GEMM_CLASSES] = {0};
    ts_gemm_tune_options o = {budget, start, 1};
    st = ts_gemm_tune(be, plan, &o, gflops, report);
    char path[4096] = "";
    if (st == TS_OK) st = ts_gemm_tuning_store(bk.backend, info.name, info.driver, plan, gflops);
    if (st == TS_OK) {
        ts_gemm_tuning_path(bk.backend, info.name, path, sizeof path);
        cJSON_AddStringToObject(report, "file", path);
        if (json) {
            rc = ts_cli_print_json("tune", report);
        } else {
            printf("tune: %s %s\n", bk.backend, info.name);
            const cJSON *classes = cJSON_GetObjectItemCaseSensitive(report, "classes");
            for (int c = 0; c < TS_GEMM_CLASSES; c++) {
                const char *cn = ts_gemm_class_name((ts_gemm_class)c);
                const cJSON *jc = cJSON_GetObjectItemCaseSensitive(classes, cn);
                const cJSON *k = cJSON_GetObjectItemCaseSensitive(jc, "kernel");
                const cJSON *r = cJSON_GetObjectItemCaseSensitive(jc, "tuned_over_untuned");
                printf("  %-8s %-14s %8.2f GFLOP/s", cn, cJSON_IsString(k) ? k->valuestring : "?",
                       gflops[c]);
                if (cJSON_IsNumber(r)) printf("  tuned/untuned %.2fx", r->valuedouble);
                printf("\n");
                print_not_tried(cJSON_GetObjectItemCaseSensitive(jc, "not_tried"));
            }
            const cJSON *secs = cJSON_GetObjectItemCaseSensitive(report, "seconds");
            printf("tune: %.1f s of the %.0f s budget%s\n",
                   cJSON_IsNumber(secs) ? secs->valuedouble : 0, budget,
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "budget_exhausted"))
                       ? ", spent: the configurations above marked 'not tried' were left out"
                       : "");
            printf("tune: wrote %s\n", path);
        }
    }
    cJSON_Delete(report);
    ts_backend_destroy(be);
    if (st != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        return ts_exit_code(st);
    }
    return rc;
}
