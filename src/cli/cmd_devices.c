/*
 * cmd_devices.c — `tunescale devices [--json]`: every backend and every device it finds.
 *
 * The backends describe themselves as JSON (backends/device_info.h); this file only renders
 * that one model, either verbatim (--json) or as a readable report grouped by backend. A
 * backend that is missing or finds no device is reported with its reason and is not an error.
 */
#include <stdio.h>
#include <string.h>

#include "backends/registry.h"
#include "backends/device_info.h"
#include "backends/gemm_plan.h"
#include "cli/cli_args.h"
#include "cli/commands.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale devices [--json]\n\n"
            "Lists every backend of this build (cpu, opencl, vulkan) and every device each one\n"
            "finds, with the facts that matter for training: memory, compute units, SIMD and\n"
            "subgroup width, fp16/fp64 support, the BLAS build.\n\n"
            "options:\n"
            "  --json       one JSON document on stdout (keys: tunescale, cpu, opencl, vulkan)\n"
            "  -h, --help   this text\n\n"
            "--device N (train, bench, sweep) picks the device numbered N here:\n"
            "  opencl   devices are counted from 0 across all platforms together, platform by\n"
            "           platform in the order listed (platform 1's first device follows\n"
            "           platform 0's last)\n"
            "  vulkan   devices are counted from 0 in the order listed\n\n"
            "A backend that is not built or finds no device is shown with the reason; that is\n"
            "not an error.\n\n"
            "exit codes: 0 ok, 1 runtime failure, 2 usage error\n");
}

/* Accessors that tolerate missing or null keys, so one absent fact never hides the rest. */
static const char *str_or(const cJSON *o, const char *key, const char *fallback) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : fallback;
}

static int has_num(const cJSON *o, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return 0;
    *out = v->valuedouble;
    return 1;
}

static const char *yes_no(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsTrue(v)) return "yes";
    if (cJSON_IsFalse(v)) return "no";
    return "?";
}

/* "23.4 GiB", "512 KiB": binary units, one decimal above the KiB range. */
static const char *fmt_bytes(double bytes, char *buf, size_t size) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 5) {
        bytes /= 1024.0;
        u++;
    }
    if (u <= 1 || bytes == (double)(long long)bytes)
        snprintf(buf, size, "%.0f %s", bytes, units[u]);
    else
        snprintf(buf, size, "%.1f %s", bytes, units[u]);
    return buf;
}

static const char *bytes_of(const cJSON *o, const char *key, char *buf, size_t size) {
    double v;
    if (!has_num(o, key, &v)) return "?";
    return fmt_bytes(v, buf, size);
}

static const char *int_of(const cJSON *o, const char *key, char *buf, size_t size) {
    double v;
    if (!has_num(o, key, &v)) return "?";
    snprintf(buf, size, "%.0f", v);
    return buf;
}

/* Field rows share one label column so the report reads as a table. */
static void field(int indent, const char *label) {
    printf("%*s%-9s", indent, "", label);
}

/* Prints the reason and returns 1 when the backend is not usable. */
static int print_unavailable(const cJSON *backend) {
    if (!backend) {
        printf("  not available: out of memory while querying\n");
        return 1;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(backend, "available"))) return 0;
    printf("  not available: %s\n", str_or(backend, "reason", "no reason given"));
    return 1;
}

static void print_cpu(const cJSON *cpu) {
    char a[32], b[32];
    printf("CPU backend (cpu)\n");
    if (print_unavailable(cpu)) return;
    printf("  %s\n", str_or(cpu, "model", "unknown CPU"));

    field(4, "cores");
    printf("%s logical, %s physical (%s)\n", int_of(cpu, "logical_cores", a, sizeof a),
           int_of(cpu, "physical_cores", b, sizeof b), str_or(cpu, "arch", "?"));

    field(4, "SIMD");
    const cJSON *simd = cJSON_GetObjectItemCaseSensitive(cpu, "simd");
    const cJSON *s;
    int any = 0;
    cJSON_ArrayForEach(s, simd) {
        if (cJSON_IsString(s)) printf("%s%s", any++ ? " " : "", s->valuestring);
    }
    printf("%s\n", any ? "" : "none detected");

    field(4, "BLAS");
    const cJSON *blas = cJSON_GetObjectItemCaseSensitive(cpu, "blas");
    if (blas) {
        /* OpenBLAS's config string already starts with its name and version. */
        const char *config = str_or(blas, "config", NULL);
        if (config)
            printf("%s", config);
        else
            printf("%s %s", str_or(blas, "name", "?"), str_or(blas, "version", "?"));
        printf(" (core %s, %s threads)\n", str_or(blas, "corename", "?"),
               int_of(blas, "threads", a, sizeof a));
    } else {
        printf("?\n");
    }

    field(4, "memory");
    printf("%s\n", bytes_of(cpu, "memory_bytes", a, sizeof a));
}

/* Marks a device "gemm_tuning": tuned | untuned | stale (a tuning file for another driver or
 * tunescale version, or a damaged one), from its tuning file (backends/gemm_plan.h). */
static void add_gemm_tuning(cJSON *d, const char *backend, const char *driver_key) {
    const char *name = str_or(d, "name", NULL), *drv = str_or(d, driver_key, "");
    int st = name ? ts_gemm_tuning_state(backend, name, drv) : 0;
    cJSON_AddStringToObject(d, "gemm_tuning", st > 0 ? "tuned" : st < 0 ? "stale" : "untuned");
    if (!strcmp(backend, "opencl")) cJSON_AddBoolToObject(d, "clblast_tuned", st == 2);
}

static void annotate_tuning(cJSON *root) {
    cJSON *p, *d;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(root, "opencl"), "platforms")) {
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(p, "devices"))
            add_gemm_tuning(d, "opencl", "driver_version");
    }
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(root, "vulkan"), "devices"))
        add_gemm_tuning(d, "vulkan", "driver_info");
}

/* The "gemm" row: tuned, or how to tune. */
static void print_gemm_tuning(int indent, const char *backend, const cJSON *d) {
    char a[32];
    const char *st = str_or(d, "gemm_tuning", "untuned");
    field(indent, "gemm");
    if (!strcmp(st, "tuned"))
        printf("tuned (tunescale tune)%s\n",
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "clblast_tuned"))
                   ? "; CLBlast runs with tuned parameters"
                   : "");
    else
        printf("untuned%s: defaults from device facts (tunescale tune --backend %s --device %s)\n",
               strcmp(st, "stale") ? "" : " (tuning file of another driver or version ignored)",
               backend, int_of(d, "index", a, sizeof a));
}

static void print_opencl_device(const cJSON *d) {
    char a[32], b[32], c[32], e[32];
    printf("    device %s: %s [%s]\n", int_of(d, "index", a, sizeof a), str_or(d, "name", "?"),
           str_or(d, "type", "?"));
    field(6, "vendor");
    printf("%s, driver %s\n", str_or(d, "vendor", "?"), str_or(d, "driver_version", "?"));
    field(6, "version");
    printf("%s | %s\n", str_or(d, "device_version", "?"), str_or(d, "opencl_c_version", "?"));
    field(6, "memory");
    printf("%s global, %s max alloc, %s local\n", bytes_of(d, "global_mem_bytes", a, sizeof a),
           bytes_of(d, "max_alloc_bytes", b, sizeof b),
           bytes_of(d, "local_mem_bytes", c, sizeof c));
    field(6, "compute");
    printf("%s CU at %s MHz, max work-group %s, fp64 %s, fp16 %s\n",
           int_of(d, "compute_units", a, sizeof a), int_of(d, "max_clock_mhz", b, sizeof b),
           int_of(d, "max_work_group_size", e, sizeof e), yes_no(d, "fp64"), yes_no(d, "fp16"));
    print_gemm_tuning(6, "opencl", d);
}

static void print_opencl(const cJSON *cl) {
    char a[32];
    printf("OpenCL backend (opencl)   --device N: device number, counted across all platforms\n");
    /* Platforms are listed even when none has a device: that is what the reason refers to. */
    print_unavailable(cl);
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(cl, "platforms")) {
        printf("  platform %s: %s (%s), %s\n", int_of(p, "index", a, sizeof a),
               str_or(p, "name", "?"), str_or(p, "vendor", "?"), str_or(p, "version", "?"));
        const char *err = str_or(p, "error", NULL);
        if (err) printf("    error: %s\n", err);
        const cJSON *d;
        int any = 0;
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(p, "devices")) {
            print_opencl_device(d);
            any = 1;
        }
        if (!any && !err) printf("    no devices\n");
    }
}

static void print_vulkan_device(const cJSON *d) {
    char a[32], b[32], c[32];
    printf("  device %s: %s [%s]\n", int_of(d, "index", a, sizeof a), str_or(d, "name", "?"),
           str_or(d, "type", "?"));

    double vendor_id = 0, device_id = 0;
    has_num(d, "vendor_id", &vendor_id);
    has_num(d, "device_id", &device_id);
    field(4, "vendor");
    printf("%s (0x%04lX), device 0x%04lX\n", str_or(d, "vendor", "?"), (unsigned long)vendor_id,
           (unsigned long)device_id);

    field(4, "driver");
    const char *name = str_or(d, "driver_name", NULL), *info = str_or(d, "driver_info", NULL);
    if (name) printf("%s%s%s, ", name, info && *info ? ": " : "", info ? info : "");
    printf("version %s\n", str_or(d, "driver_version", "?"));

    field(4, "API");
    printf("%s\n", str_or(d, "api_version", "?"));

    field(4, "memory");
    const cJSON *h;
    int i = 0;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(d, "memory_heaps")) {
        printf("%sheap %d: %s%s", i ? ", " : "", i, bytes_of(h, "size_bytes", a, sizeof a),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "device_local")) ? " device-local"
                                                                                 : "");
        i++;
    }
    printf("%s\n", i ? "" : "no heaps");

    field(4, "compute");
    printf("subgroup %s, max invocations %s, shared memory %s\n",
           int_of(d, "subgroup_size", a, sizeof a),
           int_of(d, "max_compute_workgroup_invocations", b, sizeof b),
           bytes_of(d, "max_compute_shared_memory_bytes", c, sizeof c));

    field(4, "features");
    printf("fp16 %s, int8 %s, cooperative matrix %s (NV extension %s)\n",
           yes_no(d, "shader_float16"), yes_no(d, "shader_int8"), yes_no(d, "cooperative_matrix"),
           yes_no(d, "cooperative_matrix_nv"));
    print_gemm_tuning(4, "vulkan", d);
}

static void print_vulkan(const cJSON *vk) {
    printf("Vulkan backend (vulkan)   --device N: device number\n");
    if (print_unavailable(vk)) return;
    printf("  loader API %s\n", str_or(vk, "instance_api_version", "?"));
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(vk, "devices")) print_vulkan_device(d);
}

int cmd_devices(int argc, char **argv) {
    int json = 0, first;
    const ts_cli_opt opts[] = {TS_OPT("json", TS_ARG_ON, &json), TS_OPT_END};
    const ts_cli_spec spec = {"devices", opts, NULL, 0, usage, 0};
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    rc = 0;

    cJSON *root = cJSON_CreateObject();
    cJSON *self = root ? cJSON_AddObjectToObject(root, "tunescale") : NULL;
    if (!self) {
        cJSON_Delete(root);
        fprintf(stderr, "tunescale: devices: out of memory\n");
        return 1;
    }
    cJSON_AddStringToObject(self, "version", ts_version);
    cJSON_AddStringToObject(self, "commit", ts_git_commit);
    for (int i = 0; i < ts_backend_registry_count; i++) {
        const ts_backend_entry *e = &ts_backend_registry[i];
        cJSON *info = e->info_json();
        if (info) cJSON_AddItemToObject(root, e->name, info);
    }
    annotate_tuning(root);
    const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(root, "cpu");
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(root, "opencl");
    const cJSON *vk = cJSON_GetObjectItemCaseSensitive(root, "vulkan");

    if (json) {
        rc = ts_cli_print_json("devices", root);
    } else {
        print_cpu(cpu);
        printf("\n");
        print_opencl(cl);
        printf("\n");
        print_vulkan(vk);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "tunescale: devices: cannot write to stdout\n");
        rc = 1;
    }
    cJSON_Delete(root);
    return rc;
}
