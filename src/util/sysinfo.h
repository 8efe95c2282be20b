/*
 * sysinfo.h — the system description recorded with every result and result set: host CPU,
 * memory, OS release, kernel, compiler and flags, build options, tunescale commit (with a
 * dirty flag) and, where a device was used, its name, driver and nominal peak.
 *
 * A benchmark figure without these cannot be reproduced or compared, and prose in a README
 * drifts from the files; so the files carry them.
 */
#ifndef TS_UTIL_SYSINFO_H
#define TS_UTIL_SYSINFO_H

#include <cjson/cJSON.h>

/* The description of this process's host and build as a new object (NULL: out of memory).
 * device, when not NULL, is a result's "device" object (backend, name, driver, api_version,
 * peak_gflops, peak_gflops_measured); its GPU facts join the description. */
cJSON *ts_sysinfo_json(const cJSON *device);

/* Adds "system" to a run result or manifest, reading its "device" member if it has one. */
void ts_sysinfo_add(cJSON *doc);

/* Nominal FP32 peak (GFLOP/s, vector units, boost clock) of a known GPU whose name contains
 * one of the table's names (T4, A10, L4, A100, H100, H200, MI210, MI300X, Arc A770, ...); 0
 * when the name is not in the table. */
double ts_sysinfo_known_peak(const char *device_name);

/* The 1-minute load average from /proc/loadavg; -1 where unknown. */
double ts_sysinfo_loadavg(void);

#endif
