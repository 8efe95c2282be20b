/*
 * sysinfo.c — the system description (see sysinfo.h). Everything is read from /proc, /etc and
 * uname at the time of the call, except the compiler and build options, which the build
 * passes in (CMakeLists.txt sets TS_BUILD_* on this file).
 */
#include "util/sysinfo.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

extern const char *ts_git_commit;

#ifndef TS_BUILD_TYPE
#define TS_BUILD_TYPE "unknown"
#endif
#ifndef TS_BUILD_CFLAGS
#define TS_BUILD_CFLAGS "unknown"
#endif
#ifndef TS_BUILD_OPTIONS
#define TS_BUILD_OPTIONS "unknown"
#endif

/* Vendor datasheet FP32 (non-tensor) peaks in GFLOP/s. More specific names come first: "H100
 * PCIe" before "H100", "A100" before "A10", "L40S" before "L4". */
static const struct {
    const char *name;
    double gflops;
} known_gpus[] = {
    {"H200", 66900},         {"H100 PCIe", 51200}, {"H100", 66900},         {"A100", 19500},
    {"A10G", 31240},         {"A10", 31240},       {"L40S", 91600},         {"L40", 90500},
    {"L4", 30300},           {"T4", 8100},         {"V100", 15700},         {"RTX 4090", 82600},
    {"MI300X", 81700},       {"MI300A", 61300},    {"MI250X", 47900},       {"MI250", 45300},
    {"MI210", 22600},        {"MI100", 23100},     {"Arc(TM) A770", 19660}, {"Arc A770", 19660},
    {"Arc(TM) A750", 17200}, {"Arc A750", 17200},
};

/* name holds key as a whole word ("A10" is not in "A100"). */
static int has_word(const char *name, const char *key) {
    size_t k = strlen(key);
    for (const char *p = strstr(name, key); p; p = strstr(p + 1, key)) {
        int left = p == name || !isalnum((unsigned char)p[-1]);
        int right = !isalnum((unsigned char)p[k]);
        if (left && right) return 1;
    }
    return 0;
}

double ts_sysinfo_known_peak(const char *device_name) {
    if (!device_name) return 0;
    for (size_t i = 0; i < sizeof known_gpus / sizeof known_gpus[0]; i++)
        if (has_word(device_name, known_gpus[i].name)) return known_gpus[i].gflops;
    return 0;
}

/* The value of the first line of path starting with key (after ':' or '='), unquoted. */
static int read_field(const char *path, const char *key, char *out, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[1024];
    int found = 0;
    size_t k = strlen(key);
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, k)) continue;
        char *v = line + k;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != ':' && *v != '=') continue;
        v++;
        while (*v == ' ' || *v == '"')
            v++;
        size_t len = strcspn(v, "\"\n");
        snprintf(out, cap, "%.*s", (int)len, v);
        found = 1;
    }
    fclose(f);
    return found;
}

double ts_sysinfo_loadavg(void) {
    FILE *f = fopen("/proc/loadavg", "r");
    double v = -1;
    if (f) {
        if (fscanf(f, "%lf", &v) != 1) v = -1;
        fclose(f);
    }
    return v;
}

static void add_host(cJSON *o) {
    char buf[512];
    if (read_field("/proc/cpuinfo", "model name", buf, sizeof buf))
        cJSON_AddStringToObject(o, "cpu", buf);
    else
        cJSON_AddNullToObject(o, "cpu");
    cJSON_AddNumberToObject(o, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) cJSON_AddNumberToObject(o, "memory_bytes", (double)pages * page);
    if (read_field("/etc/os-release", "PRETTY_NAME", buf, sizeof buf))
        cJSON_AddStringToObject(o, "os_release", buf);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(o, "kernel", buf);
    }
    double load = ts_sysinfo_loadavg();
    if (load >= 0) cJSON_AddNumberToObject(o, "load_average_1m", load);
}

static void add_build(cJSON *o) {
#if defined(__clang__)
    cJSON_AddStringToObject(o, "compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
    cJSON_AddStringToObject(o, "compiler", "gcc " __VERSION__);
#else
    cJSON_AddStringToObject(o, "compiler", "unknown");
#endif
    cJSON_AddStringToObject(o, "build_type", TS_BUILD_TYPE);
    cJSON_AddStringToObject(o, "flags", TS_BUILD_CFLAGS);
    cJSON_AddStringToObject(o, "options", TS_BUILD_OPTIONS);
    cJSON_AddStringToObject(o, "commit", ts_git_commit);
    cJSON_AddBoolToObject(o, "dirty", strstr(ts_git_commit, "-dirty") != NULL);
}

static const char *str_of(const cJSON *o, const char *key) {
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : "";
}

static void add_device(cJSON *o, const cJSON *dev) {
    const char *name = str_of(dev, "name");
    cJSON_AddStringToObject(o, "backend", str_of(dev, "backend"));
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "driver", str_of(dev, "driver"));
    cJSON_AddStringToObject(o, "api_version", str_of(dev, "api_version"));
    /* the nominal peak: the table of known GPUs first (device facts rarely know NVIDIA's), then
     * the backend's own figure, then what `tunescale bench peak` measured */
    const cJSON *facts = cJSON_GetObjectItemCaseSensitive(dev, "peak_gflops");
    const cJSON *meas = cJSON_GetObjectItemCaseSensitive(dev, "peak_gflops_measured");
    double table = ts_sysinfo_known_peak(name);
    if (table > 0) {
        cJSON_AddNumberToObject(o, "peak_gflops", table);
        cJSON_AddStringToObject(o, "peak_source", "table of known GPUs (FP32, datasheet)");
    } else if (cJSON_IsNumber(facts) && facts->valuedouble > 0) {
        cJSON_AddNumberToObject(o, "peak_gflops", facts->valuedouble);
        cJSON_AddStringToObject(o, "peak_source", "device facts");
    } else if (cJSON_IsNumber(meas) && meas->valuedouble > 0) {
        cJSON_AddNumberToObject(o, "peak_gflops", meas->valuedouble);
        cJSON_AddStringToObject(o, "peak_source", "measured (tunescale bench peak)");
    } else {
        cJSON_AddNullToObject(o, "peak_gflops");
        cJSON_AddStringToObject(o, "peak_source", "unknown (run tunescale bench peak)");
    }
}

cJSON *ts_sysinfo_json(const cJSON *device) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    add_host(cJSON_AddObjectToObject(o, "host"));
    add_build(cJSON_AddObjectToObject(o, "build"));
    if (cJSON_IsObject(device)) add_device(cJSON_AddObjectToObject(o, "device"), device);
    return o;
}

void ts_sysinfo_add(cJSON *doc) {
    cJSON *s = ts_sysinfo_json(cJSON_GetObjectItemCaseSensitive(doc, "device"));
    if (s) cJSON_AddItemToObject(doc, "system", s);
}
