/*
 * cpu_info.c — the CPU backend's entry in `tunescale devices`: model, cores, SIMD, BLAS and
 * memory. Everything comes from /proc/cpuinfo, sysconf, the compiler's CPU-feature builtins
 * and OpenBLAS's own introspection calls; a fact that cannot be found is reported as null.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cblas.h>

#include "backends/device_info.h"

/* The value after "key<tabs>: " if line starts with key, else NULL. Trailing newline removed. */
static char *cpuinfo_value(char *line, const char *key) {
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0) return NULL;
    char *p = line + n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    p[strcspn(p, "\n")] = '\0';
    return p;
}

/*
 * Reads the model name and counts physical cores as distinct (physical id, core id) pairs,
 * which is right for multi-socket machines where "cpu cores" is per socket. Kernels that omit
 * core ids (some VMs, many ARM boards) leave *physical at 0, meaning unknown.
 */
static void read_cpuinfo(char *model, size_t model_size, int *physical) {
    model[0] = '\0';
    *physical = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    enum { max_cores = 4096 };
    long pairs[max_cores];
    int n_pairs = 0;
    long package = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *v;
        if (!model[0] && (v = cpuinfo_value(line, "model name")) != NULL) {
            snprintf(model, model_size, "%s", v);
        } else if ((v = cpuinfo_value(line, "physical id")) != NULL) {
            package = strtol(v, NULL, 10);
        } else if ((v = cpuinfo_value(line, "core id")) != NULL) {
            /* "physical id" precedes "core id" within each processor block. */
            long key = package * 1000000L + strtol(v, NULL, 10);
            int seen = 0;
            for (int i = 0; i < n_pairs && !seen; i++)
                seen = pairs[i] == key;
            if (!seen && n_pairs < max_cores) pairs[n_pairs++] = key;
        }
    }
    fclose(f);
    *physical = n_pairs;
}

static void add_simd(cJSON *simd) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* Only names every GCC >= 8 and Clang >= 7 accept; each one matters to some kernel. */
    if (__builtin_cpu_supports("sse4.2")) cJSON_AddItemToArray(simd, cJSON_CreateString("sse4.2"));
    if (__builtin_cpu_supports("avx")) cJSON_AddItemToArray(simd, cJSON_CreateString("avx"));
    if (__builtin_cpu_supports("avx2")) cJSON_AddItemToArray(simd, cJSON_CreateString("avx2"));
    if (__builtin_cpu_supports("fma")) cJSON_AddItemToArray(simd, cJSON_CreateString("fma"));
    if (__builtin_cpu_supports("avx512f"))
        cJSON_AddItemToArray(simd, cJSON_CreateString("avx512f"));
    if (__builtin_cpu_supports("avx512bw"))
        cJSON_AddItemToArray(simd, cJSON_CreateString("avx512bw"));
    if (__builtin_cpu_supports("avx512vl"))
        cJSON_AddItemToArray(simd, cJSON_CreateString("avx512vl"));
    if (__builtin_cpu_supports("avx512vnni"))
        cJSON_AddItemToArray(simd, cJSON_CreateString("avx512vnni"));
#elif defined(__aarch64__)
    /* Advanced SIMD is mandatory in AArch64, so no runtime check is needed. */
    cJSON_AddItemToArray(simd, cJSON_CreateString("neon"));
#elif defined(__ARM_NEON)
    cJSON_AddItemToArray(simd, cJSON_CreateString("neon"));
#else
    (void)simd;
#endif
}

static cJSON *blas_json(void) {
    cJSON *b = cJSON_CreateObject();
    if (!b) return NULL;
    cJSON_AddStringToObject(b, "name", "OpenBLAS");
    const char *config = openblas_get_config();
    /* The config string begins "OpenBLAS <version> ..."; the version is worth its own key. */
    char version[64] = "";
    if (config && sscanf(config, "OpenBLAS %63s", version) == 1)
        cJSON_AddStringToObject(b, "version", version);
    else
        cJSON_AddNullToObject(b, "version");
    if (config)
        cJSON_AddStringToObject(b, "config", config);
    else
        cJSON_AddNullToObject(b, "config");
    const char *core = openblas_get_corename();
    if (core)
        cJSON_AddStringToObject(b, "corename", core);
    else
        cJSON_AddNullToObject(b, "corename");
    cJSON_AddNumberToObject(b, "threads", openblas_get_num_threads());
    return b;
}

cJSON *ts_cpu_info_json(void) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    char model[256];
    int physical;
    read_cpuinfo(model, sizeof model, &physical);
    cJSON_AddBoolToObject(o, "built", 1);
    cJSON_AddBoolToObject(o, "available", 1);
    cJSON_AddStringToObject(o, "model", model[0] ? model : "unknown CPU");
    /* The kernel's name for the machine (uname -m): every architecture, none to list here. */
    struct utsname u;
    cJSON_AddStringToObject(o, "arch", uname(&u) == 0 ? u.machine : "unknown");

    long logical = sysconf(_SC_NPROCESSORS_ONLN);
    cJSON_AddNumberToObject(o, "logical_cores", logical > 0 ? (double)logical : 1.0);
    if (physical > 0)
        cJSON_AddNumberToObject(o, "physical_cores", physical);
    else
        cJSON_AddNullToObject(o, "physical_cores");

    cJSON *simd = cJSON_AddArrayToObject(o, "simd");
    if (simd) add_simd(simd);

    cJSON *blas = blas_json();
    if (blas) cJSON_AddItemToObject(o, "blas", blas);

    long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page_size > 0)
        cJSON_AddNumberToObject(o, "memory_bytes", (double)pages * (double)page_size);
    else
        cJSON_AddNullToObject(o, "memory_bytes");
    return o;
}
