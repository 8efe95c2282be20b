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

const ts_backend_entry ts_backend_registry[] = {
    {.name = "cpu",
     .title = "CPU",
     .built = 1,
     .create = ts_cpu_backend_create,
     .info_json = ts_cpu_info_json},
    {.name = "opencl",
     .title = "OpenCL",
     .built = TS_OPENCL_BUILT,
     .create = ts_opencl_backend_create,
     .not_built = "configure with the OpenCL loader and CLBlast installed",
     .info_json = ts_opencl_info_json},
    {.name = "vulkan",
     .title = "Vulkan",
     .built = TS_VULKAN_BUILT,
     .create = ts_vulkan_backend_create,
     .not_built = "configure with the Vulkan loader and glslc installed",
     .info_json = ts_vulkan_info_json},
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
