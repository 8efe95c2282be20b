/* sha256.h — SHA-256 over buffers, files and streams (OpenSSL's libcrypto does the work). */
#ifndef TS_UTIL_SHA256_H
#define TS_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct ts_sha256 ts_sha256;

ts_sha256 *ts_sha256_new(void);
void ts_sha256_update(ts_sha256 *h, const void *data, size_t n);
/* Writes 64 lowercase hex digits and a NUL to hex, and frees h. */
void ts_sha256_finish_hex(ts_sha256 *h, char hex[65]);

void ts_sha256_hex(const void *data, size_t n, char hex[65]);
ts_status ts_sha256_file_hex(const char *path, char hex[65]);

#endif
