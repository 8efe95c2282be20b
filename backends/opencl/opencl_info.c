/*
 * opencl_info.c — the OpenCL backend's entry in `tunescale devices`: every platform the ICD
 * loader finds and every device on it, with the facts that decide what a training run can do
 * there (memory, compute units, work-group limits, fp64/fp16).
 *
 * Each device's "index" is the flattened position `--device N` uses (see device_info.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>

#include "backends/device_info.h"
#include "backends/opencl/opencl_internal.h"

/* The ICD loader's "no platform" code lives in cl_ext.h; its value is fixed by the spec. */
#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

/* A string property of device d, or of platform p when d is NULL, in freshly allocated memory;
 * NULL when the query fails. */
static char *info_string(cl_platform_id p, cl_device_id d, cl_uint what) {
    size_t n = 0;
    cl_int err =
        d ? clGetDeviceInfo(d, what, 0, NULL, &n) : clGetPlatformInfo(p, what, 0, NULL, &n);
    if (err != CL_SUCCESS || n == 0) return NULL;
    char *s = malloc(n + 1);
    if (!s) return NULL;
    err = d ? clGetDeviceInfo(d, what, n, s, NULL) : clGetPlatformInfo(p, what, n, s, NULL);
    if (err != CL_SUCCESS) {
        free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}

/* Adds key: string, trimmed of the trailing spaces some drivers pad with, or null. Frees s. */
static void add_owned_string(cJSON *o, const char *key, char *s) {
    if (!s) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        s[--n] = '\0';
    cJSON_AddStringToObject(o, key, s);
    free(s);
}

/* A string property and the key `devices` reports it under. */
typedef struct {
    cl_uint what;
    const char *key;
} string_row;

static const string_row platform_strings[] = {
    {CL_PLATFORM_NAME, "name"}, {CL_PLATFORM_VENDOR, "vendor"}, {CL_PLATFORM_VERSION, "version"}};

static const string_row device_strings[] = {{CL_DEVICE_NAME, "name"},
                                            {CL_DEVICE_VENDOR, "vendor"},
                                            {CL_DRIVER_VERSION, "driver_version"},
                                            {CL_DEVICE_VERSION, "device_version"},
                                            {CL_DEVICE_OPENCL_C_VERSION, "opencl_c_version"}};

/* Adds every row of the table: the property of device d, or of platform p when d is NULL. */
static void add_strings(cJSON *o, cl_platform_id p, cl_device_id d, const string_row *rows,
                        size_t n) {
    for (size_t i = 0; i < n; i++)
        add_owned_string(o, rows[i].key, info_string(p, d, rows[i].what));
}

/* Numeric device properties come as cl_ulong, cl_uint or size_t: read `bytes` of one, report a
 * double (exact up to 2^53 bytes, far beyond any device) or null when the driver refuses. */
static void add_number(cJSON *o, const char *key, cl_device_id d, cl_device_info what,
                       size_t bytes) {
    union {
        cl_ulong u64;
        cl_uint u32;
        size_t z;
    } v = {0};
    if (clGetDeviceInfo(d, what, bytes, &v, NULL) != CL_SUCCESS)
        cJSON_AddNullToObject(o, key);
    else if (bytes == sizeof v.u32)
        cJSON_AddNumberToObject(o, key, v.u32);
    else
        cJSON_AddNumberToObject(o, key, bytes == sizeof v.z ? (double)v.z : (double)v.u64);
}

/* Whole-word search in a space-separated extension list ("cl_khr_fp16" must not match a
 * hypothetical "cl_khr_fp16_foo"). */
static int has_extension(const char *list, const char *name) {
    if (!list) return 0;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n) {
        int starts = p == list || p[-1] == ' ';
        int ends = p[n] == '\0' || p[n] == ' ';
        if (starts && ends) return 1;
    }
    return 0;
}

static const char *device_type_name(cl_device_type t) {
    if (t & CL_DEVICE_TYPE_GPU) return "gpu";
    if (t & CL_DEVICE_TYPE_CPU) return "cpu";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
    if (t & CL_DEVICE_TYPE_CUSTOM) return "custom";
    return "other";
}

static cJSON *device_json(cl_device_id d, int index) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "index", index);
    add_strings(o, NULL, d, device_strings, sizeof device_strings / sizeof *device_strings);

    cl_device_type type = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL) == CL_SUCCESS)
        cJSON_AddStringToObject(o, "type", device_type_name(type));
    else
        cJSON_AddNullToObject(o, "type");

    add_number(o, "global_mem_bytes", d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(cl_ulong));
    add_number(o, "max_alloc_bytes", d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(cl_ulong));
    add_number(o, "local_mem_bytes", d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof(cl_ulong));
    add_number(o, "compute_units", d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(cl_uint));
    add_number(o, "max_clock_mhz", d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof(cl_uint));
    add_number(o, "max_work_group_size", d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(size_t));

    char *ext = info_string(NULL, d, CL_DEVICE_EXTENSIONS);
    /* Devices without doubles may answer the FP-config query with an error rather than 0. */
    cl_device_fp_config fp64 = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL) != CL_SUCCESS)
        fp64 = 0;
    cJSON_AddBoolToObject(o, "fp64", fp64 != 0 || has_extension(ext, "cl_khr_fp64"));
    cJSON_AddBoolToObject(o, "fp16", has_extension(ext, "cl_khr_fp16"));
    free(ext);
    return o;
}

/* Adds the platform's devices, numbering them from *next_index on. */
static cJSON *platform_json(cl_platform_id p, int platform_index, int *next_index) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "index", platform_index);
    add_strings(o, p, NULL, platform_strings, sizeof platform_strings / sizeof *platform_strings);
    cJSON *devices = cJSON_AddArrayToObject(o, "devices");
    if (!devices) return o;

    cl_uint n = 0;
    cl_int err = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, NULL, &n);
    if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && n == 0)) return o;
    cl_device_id *ids = err == CL_SUCCESS ? malloc(n * sizeof *ids) : NULL;
    if (err == CL_SUCCESS && ids) err = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n, ids, NULL);
    if (err != CL_SUCCESS || !ids) {
        /* A broken platform should not hide the others; say what failed on it. */
        char msg[128];
        snprintf(msg, sizeof msg, "clGetDeviceIDs failed: %s (%d)",
                 err != CL_SUCCESS ? ocl_error_name(err) : "out of memory", (int)err);
        cJSON_AddStringToObject(o, "error", msg);
        free(ids);
        return o;
    }
    for (cl_uint i = 0; i < n; i++) {
        cJSON *d = device_json(ids[i], (*next_index)++);
        if (d) cJSON_AddItemToArray(devices, d);
    }
    free(ids);
    return o;
}

cJSON *ts_opencl_info_json(void) {
    cJSON *o = ts_info_object(1);
    if (!o) return NULL;

    cl_uint n = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &n);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && n == 0))
        return ts_info_unavailable(
            o, "no OpenCL platform found (install an ICD, e.g. pocl-opencl-icd, "
               "or your GPU driver's)");
    char msg[160];
    if (err != CL_SUCCESS) {
        snprintf(msg, sizeof msg, "clGetPlatformIDs failed: %s (%d)", ocl_error_name(err),
                 (int)err);
        return ts_info_unavailable(o, msg);
    }
    cl_platform_id *ids = malloc(n * sizeof *ids);
    if (!ids) return ts_info_unavailable(o, "out of memory listing OpenCL platforms");
    err = clGetPlatformIDs(n, ids, NULL);
    if (err != CL_SUCCESS) {
        free(ids);
        snprintf(msg, sizeof msg, "clGetPlatformIDs failed: %s (%d)", ocl_error_name(err),
                 (int)err);
        return ts_info_unavailable(o, msg);
    }

    cJSON *platforms = cJSON_CreateArray();
    int n_devices = 0;
    for (cl_uint i = 0; platforms && i < n; i++) {
        cJSON *p = platform_json(ids[i], (int)i, &n_devices);
        if (p) cJSON_AddItemToArray(platforms, p);
    }
    free(ids);

    /* "available" leads the object so that a reader sees the verdict before the details. */
    if (n_devices == 0) {
        ts_info_unavailable(o, "OpenCL platforms found, but none has a device");
    } else {
        cJSON_AddBoolToObject(o, "available", 1);
    }
    if (platforms) cJSON_AddItemToObject(o, "platforms", platforms);
    return o;
}
