/*
 * peak_cache.h — measured device ceilings (`tunescale bench peak`), kept per device so that
 * training runs can report MFU against what the device really does rather than a datasheet.
 *
 * One small JSON file per (backend, device): <cache>/peak/<backend>-<device>.json, where
 * <cache> is $TUNESCALE_CACHE, else $XDG_CACHE_HOME/tunescale, else ~/.cache/tunescale, and
 * the device name is sanitised to [A-Za-z0-9._-]. Files are written atomically.
 */
#ifndef TS_BACKENDS_PEAK_CACHE_H
#define TS_BACKENDS_PEAK_CACHE_H

#include <stddef.h>

#include "util/error.h"

/* The file for (backend, device_name) into out; 0 when no cache directory can be named
 * (no $TUNESCALE_CACHE, $XDG_CACHE_HOME or $HOME) or the path does not fit. */
int ts_peak_cache_path(const char *backend, const char *device_name, char *out, size_t cap);

/* The same scheme under <cache>/<sub>/ (the GEMM tuning files use sub "tune"). */
int ts_cache_file_path(const char *sub, const char *backend, const char *device_name, char *out,
                       size_t cap);

struct cJSON;
/* Starts the record of (backend, device_name) under <cache>/<sub>/: its path into path, its
 * folder made, and in *doc a new object with "format", "backend" and "device" (what a lookup
 * matches), for the caller to complete and hand to ts_write_json_atomic. */
ts_status ts_cache_record_begin(const char *sub, int format, const char *backend,
                                const char *device_name, char *path, size_t cap,
                                struct cJSON **doc);

/* Records measured FP32 GFLOP/s and copy bandwidth GB/s, replacing an earlier record. */
ts_status ts_peak_cache_store(const char *backend, const char *device_name, double gflops,
                              double gbs);

/* 1 and the recorded figures when this device has a record, else 0 (a missing, unreadable or
 * foreign file is simply "not measured"; *gflops and *gbs are then left alone). */
int ts_peak_cache_lookup(const char *backend, const char *device_name, double *gflops, double *gbs);

#endif
