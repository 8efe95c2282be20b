/*
 * registry.h — the one list of backends: each one's name, whether this build has it, its
 * constructor and its device facts. `tunescale devices`, `sweep --backend all`, `bench`,
 * ts_backend_create and the tests walk this list instead of naming backends themselves.
 */
#ifndef TS_BACKENDS_REGISTRY_H
#define TS_BACKENDS_REGISTRY_H

#include <cjson/cJSON.h>

#include "backends/backend.h"

typedef struct {
    const char *name;  /* --backend NAME */
    const char *title; /* for people: "CPU", "OpenCL", "Vulkan" */
    int built;         /* compiled into this binary */
    /* NULL when not built; then not_built says how to get it */
    ts_status (*create)(const ts_backend_options *o, ts_backend **out);
    const char *not_built;
    cJSON *(*info_json)(void); /* device facts (device_info.h); works when not built too */
} ts_backend_entry;

#define TS_BACKENDS_MAX 8 /* room for every entry, for callers that hold a list of names */

/* Every backend, cpu first, in the order `devices` and `sweep --backend all` use. */
extern const ts_backend_entry ts_backend_registry[];
extern const int ts_backend_registry_count;

/* The entry named `name`, or NULL. */
const ts_backend_entry *ts_backend_find(const char *name);

/* "cpu, opencl or vulkan": the names for a usage message. */
const char *ts_backend_names(void);

#endif
