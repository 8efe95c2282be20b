/* registry.c — the list of backends (see registry.h). */
#include "backends/registry.h"

#include <stdio.h>
#include <string.h>

#include "backends/device_info.h"

#ifndef TS_HAVE_OPENCL
#define ts_opencl_backend_create NULL
#define TS_OPENCL_BUILT          0
#else
#define TS_OPENCL_BUILT 1
#endif
#ifndef TS_HAVE_VULKAN
#define ts_vulkan_backend_create NULL
#define TS_VULKAN_BUILT          0
#else
#define TS_VULKAN_BUILT 1
#endif

/* name, title, built, how to get it built; the constructor is ts_<name>_backend_create and the
 * device facts ts_<name>_info_json */
#define ENTRY(name, title, built, hint)                                                            \
    { #name, title, built, built ? ts_##name##_backend_create : NULL, hint, ts_##name##_info_json }
const ts_backend_entry ts_backend_registry[] = {
    ENTRY(cpu, "CPU", 1, NULL),
    ENTRY(opencl, "OpenCL", TS_OPENCL_BUILT,
          "configure with the OpenCL loader and CLBlast installed"),
    ENTRY(vulkan, "Vulkan", TS_VULKAN_BUILT,
          "configure with the Vulkan loader and glslc installed"),
};
const int ts_backend_registry_count =
    (int)(sizeof ts_backend_registry / sizeof ts_backend_registry[0]);

const ts_backend_entry *ts_backend_find(const char *name) {
    for (int i = 0; i < ts_backend_registry_count; i++)
        if (!strcmp(ts_backend_registry[i].name, name)) return &ts_backend_registry[i];
    return NULL;
}

const char *ts_backend_names(void) {
    static char names[128];
    if (names[0]) return names;
    size_t len = 0;
    for (int i = 0; i < ts_backend_registry_count && len < sizeof names; i++) {
        const char *sep = i == 0 ? "" : i == ts_backend_registry_count - 1 ? " or " : ", ";
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", sep,
                                ts_backend_registry[i].name);
    }
    return names;
}
