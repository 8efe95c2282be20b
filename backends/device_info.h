/*
 * device_info.h — what `tunescale devices` knows about each backend, as JSON objects.
 *
 * One data model, two renderings: each backend describes itself as a cJSON object and
 * src/cli/cmd_devices.c prints either that JSON or a readable report from it. The caller owns
 * the returned object (cJSON_Delete). NULL is returned only when memory runs out.
 *
 * Every object carries "built" (the backend was compiled in) and "available" (it found at
 * least one usable device); when "available" is false, "reason" says why in one line. An
 * unavailable backend is a fact to report, not an error.
 *
 * The "index" of each OpenCL and Vulkan device is the number `--device N` selects:
 *   - OpenCL: devices of all platforms flattened, 0-based, in clGetPlatformIDs order and then
 *     clGetDeviceIDs(CL_DEVICE_TYPE_ALL) order within each platform.
 *   - Vulkan: 0-based position in vkEnumeratePhysicalDevices order.
 */
#ifndef TS_BACKENDS_DEVICE_INFO_H
#define TS_BACKENDS_DEVICE_INFO_H

#include <cjson/cJSON.h>

/* For the backends' info functions: a new object {"built": built} (NULL when memory runs out),
 * and o marked {"available": false, "reason": reason} (o may be NULL); returns o. */
cJSON *ts_info_object(int built);
cJSON *ts_info_unavailable(cJSON *o, const char *reason);

/* {"built", "available", "model", "arch", "logical_cores", "physical_cores", "simd": [...],
 *  "blas": {...}, "memory_bytes"} */
cJSON *ts_cpu_info_json(void);

/* {"built", "available", "reason" (if not), "platforms": [{..., "devices": [...]}]} */
cJSON *ts_opencl_info_json(void);

/* {"built", "available", "reason" (if not), "instance_api_version", "devices": [...]} */
cJSON *ts_vulkan_info_json(void);

#endif
