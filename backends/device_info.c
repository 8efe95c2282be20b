/*
 * device_info.c — what every backend's `tunescale devices` object shares, and device_info.h
 * for backends this build left out.
 *
 * backends/opencl and backends/vulkan are compiled only when configure found their
 * dependencies, yet `tunescale devices` must still say why such a backend is missing, so the
 * same functions exist here and report {"built": false, "available": false, "reason": ...}.
 */
#include "backends/device_info.h"

cJSON *ts_info_object(int built) {
    cJSON *o = cJSON_CreateObject();
    if (o) cJSON_AddBoolToObject(o, "built", built);
    return o;
}

cJSON *ts_info_unavailable(cJSON *o, const char *reason) {
    cJSON_AddBoolToObject(o, "available", 0);
    cJSON_AddStringToObject(o, "reason", reason);
    return o;
}

#ifndef TS_HAVE_OPENCL
cJSON *ts_opencl_info_json(void) {
    return ts_info_unavailable(ts_info_object(0),
                               "not built: configure found no OpenCL loader/CLBlast "
                               "(or TUNESCALE_OPENCL=OFF)");
}
#endif

#ifndef TS_HAVE_VULKAN
cJSON *ts_vulkan_info_json(void) {
    return ts_info_unavailable(ts_info_object(0),
                               "not built: configure found no Vulkan loader/glslc "
                               "(or TUNESCALE_VULKAN=OFF)");
}
#endif
