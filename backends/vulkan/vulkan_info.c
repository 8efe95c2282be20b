/*
 * vulkan_info.c — the Vulkan backend's entry in `tunescale devices`: every physical device
 * the loader finds, with the limits and features that shape compute shaders (subgroup size,
 * shared memory, fp16, cooperative matrices).
 *
 * It creates a bare instance (no layers, no surface), reads what it needs and destroys the
 * instance again. Each device's "index" is the position `--device N` uses (see device_info.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "backends/device_info.h"
#include "backends/vulkan/vulkan_internal.h"

/* Spelled out rather than taken from the headers: VK_KHR_cooperative_matrix is newer than
 * some distributions' vulkan_core.h, and the name is all that is needed to detect it. */
#define TS_KHR_COOPMAT_EXT  "VK_KHR_cooperative_matrix"
#define TS_NV_COOPMAT_EXT   "VK_NV_cooperative_matrix"
#define TS_PORTABILITY_EXT  "VK_KHR_portability_enumeration"
#define TS_DRIVER_PROPS_EXT "VK_KHR_driver_properties"
#define TS_FLOAT16_EXT      "VK_KHR_shader_float16_int8"

/* The version fields by bit position, so that headers older than VK_API_VERSION_MAJOR work. */
static unsigned api_major(uint32_t v) {
    return (v >> 22) & 0x7fU;
}
static unsigned api_minor(uint32_t v) {
    return (v >> 12) & 0x3ffU;
}
static unsigned api_patch(uint32_t v) {
    return v & 0xfffU;
}

static void add_version(cJSON *o, const char *key, uint32_t v) {
    char s[32];
    snprintf(s, sizeof s, "%u.%u.%u", api_major(v), api_minor(v), api_patch(v));
    cJSON_AddStringToObject(o, key, s);
}

/* PCI vendor ids (0x10005 is Mesa's id for software devices such as lavapipe). */
static const struct {
    uint32_t id;
    const char *name;
} vendors[] = {{0x10DE, "NVIDIA"}, {0x1002, "AMD"},      {0x8086, "Intel"}, {0x10005, "Mesa"},
               {0x13B5, "ARM"},    {0x5143, "Qualcomm"}, {0x106B, "Apple"}};

static const char *vendor_name(uint32_t id) {
    for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++)
        if (vendors[i].id == id) return vendors[i].name;
    return NULL;
}

static const char *device_type_name(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return "cpu";
    default:
        return "other";
    }
}

/* driverVersion has no standard layout: NVIDIA packs 10.8.8.6 bits, most others (Mesa
 * included) use the Vulkan version layout. The raw value is reported too. */
static void add_driver_version(cJSON *o, uint32_t vendor, uint32_t v) {
    char s[48];
    if (vendor == 0x10DE)
        snprintf(s, sizeof s, "%u.%u.%u.%u", (v >> 22) & 0x3ffU, (v >> 14) & 0xffU,
                 (v >> 6) & 0xffU, v & 0x3fU);
    else
        snprintf(s, sizeof s, "%u.%u.%u", api_major(v), api_minor(v), api_patch(v));
    cJSON_AddStringToObject(o, "driver_version", s);
    cJSON_AddNumberToObject(o, "driver_version_raw", v);
}

/* A fact the device could not be asked for (too old an API, a missing extension) is null,
 * never absent or made up. */
static void add_string_or_null(cJSON *o, const char *key, int known, const char *v) {
    if (known)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_number_or_null(cJSON *o, const char *key, int known, double v) {
    if (known)
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_bool_or_null(cJSON *o, const char *key, int known, int v) {
    if (known)
        cJSON_AddBoolToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

typedef struct {
    VkExtensionProperties *list;
    uint32_t n;
} ext_list;

static ext_list device_extensions(VkPhysicalDevice pd) {
    ext_list e = {NULL, 0};
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &e.n, NULL) != VK_SUCCESS || e.n == 0)
        return (ext_list){NULL, 0};
    e.list = calloc(e.n, sizeof *e.list);
    if (!e.list || vkEnumerateDeviceExtensionProperties(pd, NULL, &e.n, e.list) != VK_SUCCESS) {
        free(e.list);
        return (ext_list){NULL, 0};
    }
    return e;
}

static int has_extension(const ext_list *e, const char *name) {
    for (uint32_t i = 0; i < e->n; i++)
        if (!strcmp(e->list[i].extensionName, name)) return 1;
    return 0;
}

/* instance_api is the version the instance was created with: a device may use the lesser of
 * that and its own apiVersion, which decides which *2 structures may be chained. */
static cJSON *device_json(VkPhysicalDevice pd, int index, uint32_t instance_api) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(pd, &props);
    ext_list ext = device_extensions(pd);
    uint32_t api = props.apiVersion < instance_api ? props.apiVersion : instance_api;
    int v11 = api >= VK_API_VERSION_1_1, v12 = api >= VK_API_VERSION_1_2;
    int can_query2 = instance_api >= VK_API_VERSION_1_1;

    cJSON_AddNumberToObject(o, "index", index);
    cJSON_AddStringToObject(o, "name", props.deviceName);
    const char *vendor = vendor_name(props.vendorID);
    char hex[16];
    snprintf(hex, sizeof hex, "0x%04X", props.vendorID);
    cJSON_AddStringToObject(o, "vendor", vendor ? vendor : hex);
    cJSON_AddNumberToObject(o, "vendor_id", props.vendorID);
    cJSON_AddNumberToObject(o, "device_id", props.deviceID);
    cJSON_AddStringToObject(o, "type", device_type_name(props.deviceType));
    add_version(o, "api_version", props.apiVersion);

    /* One properties2 and one features2 call, each with the structures this device allows. */
    VkPhysicalDeviceSubgroupProperties subgroup = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties driver = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceProperties2 props2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    int have_subgroup = can_query2 && v11;
    int have_driver = can_query2 && (v12 || has_extension(&ext, TS_DRIVER_PROPS_EXT));
    if (have_subgroup) {
        subgroup.pNext = props2.pNext;
        props2.pNext = &subgroup;
    }
    if (have_driver) {
        driver.pNext = props2.pNext;
        props2.pNext = &driver;
    }
    if (have_subgroup || have_driver) vkGetPhysicalDeviceProperties2(pd, &props2);

    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDeviceFeatures2 feats2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                        .pNext = &f16};
    int have_f16 = can_query2 && (v12 || has_extension(&ext, TS_FLOAT16_EXT));
    if (have_f16) vkGetPhysicalDeviceFeatures2(pd, &feats2);

    add_string_or_null(o, "driver_name", have_driver, driver.driverName);
    add_string_or_null(o, "driver_info", have_driver, driver.driverInfo);
    add_driver_version(o, props.vendorID, props.driverVersion);

    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    cJSON *heaps = cJSON_AddArrayToObject(o, "memory_heaps");
    for (uint32_t i = 0; heaps && i < mem.memoryHeapCount; i++) {
        cJSON *h = cJSON_CreateObject();
        if (!h) break;
        cJSON_AddNumberToObject(h, "size_bytes", (double)mem.memoryHeaps[i].size);
        cJSON_AddBoolToObject(h, "device_local",
                              (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0);
        cJSON_AddItemToArray(heaps, h);
    }

    add_number_or_null(o, "subgroup_size", have_subgroup, subgroup.subgroupSize);
    add_bool_or_null(o, "shader_float16", have_f16, f16.shaderFloat16);
    add_bool_or_null(o, "shader_int8", have_f16, f16.shaderInt8);
    cJSON_AddBoolToObject(o, "cooperative_matrix", has_extension(&ext, TS_KHR_COOPMAT_EXT));
    cJSON_AddBoolToObject(o, "cooperative_matrix_nv", has_extension(&ext, TS_NV_COOPMAT_EXT));

    const VkPhysicalDeviceLimits *lim = &props.limits;
    cJSON_AddNumberToObject(o, "max_compute_workgroup_invocations",
                            lim->maxComputeWorkGroupInvocations);
    int wg[3] = {(int)lim->maxComputeWorkGroupSize[0], (int)lim->maxComputeWorkGroupSize[1],
                 (int)lim->maxComputeWorkGroupSize[2]};
    cJSON *wg_size = cJSON_CreateIntArray(wg, 3);
    if (wg_size) cJSON_AddItemToObject(o, "max_compute_workgroup_size", wg_size);
    cJSON_AddNumberToObject(o, "max_compute_shared_memory_bytes", lim->maxComputeSharedMemorySize);
    free(ext.list);
    return o;
}

static const char *no_driver_reason =
    "no Vulkan driver found (install mesa-vulkan-drivers for lavapipe, or your GPU driver)";

/* The loader's version; looked up dynamically because a 1.0 loader lacks the entry point. */
static uint32_t loader_version(void) {
    PFN_vkEnumerateInstanceVersion enumerate =
        (PFN_vkEnumerateInstanceVersion)vkGetInstanceProcAddr(NULL, "vkEnumerateInstanceVersion");
    uint32_t v = VK_API_VERSION_1_0;
    if (enumerate && enumerate(&v) != VK_SUCCESS) v = VK_API_VERSION_1_0;
    return v;
}

/* Whether the loader offers the portability-enumeration extension (MoltenVK and other
 * non-conformant drivers are listed only when it is enabled). */
static int has_portability_enumeration(void) {
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkExtensionProperties *list = calloc(n, sizeof *list);
    int found = 0;
    if (list && vkEnumerateInstanceExtensionProperties(NULL, &n, list) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = !strcmp(list[i].extensionName, TS_PORTABILITY_EXT);
    free(list);
    return found;
}

cJSON *ts_vulkan_info_json(void) {
    cJSON *o = ts_info_object(1);
    if (!o) return NULL;

    uint32_t loader = loader_version();
    /* A 1.0 loader rejects any higher apiVersion; a newer one accepts its own version, which
     * lets every device expose everything it supports. */
    uint32_t api = loader >= VK_API_VERSION_1_1 ? loader : VK_API_VERSION_1_0;
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "tunescale devices",
                             .pEngineName = "tunescale",
                             .apiVersion = api};
    const char *portability = TS_PORTABILITY_EXT;
    VkInstanceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                 .pApplicationInfo = &app};
    if (has_portability_enumeration()) {
        info.flags |= 0x00000001; /* VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR */
        info.enabledExtensionCount = 1;
        info.ppEnabledExtensionNames = &portability;
    }

    VkInstance instance = VK_NULL_HANDLE;
    VkResult r = vkCreateInstance(&info, NULL, &instance);
    char msg[160];
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER) return ts_info_unavailable(o, no_driver_reason);
    if (r != VK_SUCCESS) {
        snprintf(msg, sizeof msg, "vkCreateInstance failed: %s (%d)", vk_result_str(r), (int)r);
        return ts_info_unavailable(o, msg);
    }

    uint32_t n = 0;
    r = vkEnumeratePhysicalDevices(instance, &n, NULL);
    VkPhysicalDevice *pds = NULL;
    if (r == VK_SUCCESS && n > 0) {
        pds = calloc(n, sizeof *pds);
        if (!pds) {
            vkDestroyInstance(instance, NULL);
            return ts_info_unavailable(o, "out of memory listing Vulkan devices");
        }
        /* VK_INCOMPLETE only means a device vanished between the calls; n is updated. */
        r = vkEnumeratePhysicalDevices(instance, &n, pds);
        if (r == VK_INCOMPLETE) r = VK_SUCCESS;
    }
    if (r != VK_SUCCESS) {
        free(pds);
        vkDestroyInstance(instance, NULL);
        snprintf(msg, sizeof msg, "vkEnumeratePhysicalDevices failed: %s (%d)", vk_result_str(r),
                 (int)r);
        return ts_info_unavailable(o, msg);
    }
    if (n == 0) {
        free(pds);
        vkDestroyInstance(instance, NULL);
        return ts_info_unavailable(o, no_driver_reason);
    }

    cJSON_AddBoolToObject(o, "available", 1);
    add_version(o, "instance_api_version", loader);
    cJSON *devices = cJSON_AddArrayToObject(o, "devices");
    for (uint32_t i = 0; devices && i < n; i++) {
        cJSON *d = device_json(pds[i], (int)i, api);
        if (d) cJSON_AddItemToArray(devices, d);
    }
    free(pds);
    vkDestroyInstance(instance, NULL);
    return o;
}
