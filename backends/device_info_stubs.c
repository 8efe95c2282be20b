/*
 * device_info_stubs.c — device_info.h for backends this build left out.
 *
 * backends/opencl and backends/vulkan are compiled only when configure found their
 * dependencies, yet `tunescale devices` must still say why such a backend is missing, so the
 * same functions exist here and report {"built": false, "available": false, "reason": ...}.
 */
#include "backends/device_info.h"

#if !defined(TS_HAVE_OPENCL) || !defined(TS_HAVE_VULKAN)
static cJSON *not_built(const char *reason) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddBoolToObject(o, "built", 0);
    cJSON_AddBoolToObject(o, "available", 0);
    cJSON_AddStringToObject(o, "reason", reason);
    return o;
}
#endif

#ifndef TS_HAVE_OPENCL
cJSON *ts_opencl_info_json(void) {
    return not_built("not built: configure found no OpenCL loader/CLBlast "
                     "(or TUNESCALE_OPENCL=OFF)");
}
#endif

#ifndef TS_HAVE_VULKAN
cJSON *ts_vulkan_info_json(void) {
    return not_built("not built: configure found no Vulkan loader/glslc "
                     "(or TUNESCALE_VULKAN=OFF)");
}
#endif

/* ISO C forbids an empty translation unit; this keeps the file valid when both are built. */
typedef int ts_device_info_stubs_nonempty;
