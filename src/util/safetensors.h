/*
 * safetensors.h — reading and writing safetensors files (tunescale's checkpoint format).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON header, then the data
 * section. The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
 * (offsets relative to the data section) and may hold a "__metadata__" map of strings. The
 * tensors tile the data section exactly: no gaps, no overlaps, nothing left over.
 *
 * tunescale adds one metadata key, "tunescale_sha256": the SHA-256 of the data section in
 * lowercase hex. The writer always stores it; the reader checks it when present, so files from
 * PyTorch's safetensors library (which lack it) still load.
 */
#ifndef TS_UTIL_SAFETENSORS_H
#define TS_UTIL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"

#define TS_ST_MAX_NDIM     8
#define TS_ST_MAX_NAME     256
#define TS_ST_CHECKSUM_KEY "tunescale_sha256"

typedef struct {
    char name[TS_ST_MAX_NAME];
    char dtype[8]; /* "F32", "I32", "I64", "F16", "BF16", "U8", "BOOL", "F8_E4M3", ... */
    int ndim;      /* 0 for a scalar */
    int64_t shape[TS_ST_MAX_NDIM];
    size_t offset; /* from the start of the data section */
    size_t nbytes;
} ts_st_tensor;

typedef struct {
    char *data;            /* the whole file, as read */
    size_t size;           /* bytes in the file */
    size_t data_start;     /* where the data section begins in data (8 + header length) */
    ts_st_tensor *tensors; /* in header order */
    size_t n;
    cJSON *metadata; /* the "__metadata__" object, or NULL if the file has none */
    char path[4096];
    char *mem; /* the allocation behind data, which starts a few bytes into it so that the data
                * section is 8-byte aligned in memory */
} ts_safetensors;

/* Bytes per element of a safetensors dtype name, 0 if the name is unknown. */
size_t ts_st_dtype_size(const char *dtype);

/* Reads and validates the whole file. On failure, st is left empty (ts_st_close is harmless)
 * and the error line names the file and what is wrong with it. */
ts_status ts_st_open(ts_safetensors *st, const char *path);
void ts_st_close(ts_safetensors *st);

/* The tensor called name, NULL if absent. */
const ts_st_tensor *ts_st_find(const ts_safetensors *st, const char *name);
/* The tensor's bytes. The data section starts 8-byte aligned in memory, so a tensor is as
 * aligned as its offset (files from ts_st_write and from PyTorch keep each tensor aligned to its
 * element size). */
const void *ts_st_data(const ts_safetensors *st, const ts_st_tensor *t);
/* A metadata value, NULL if absent. */
const char *ts_st_meta(const ts_safetensors *st, const char *key);

/* Finds name and checks its dtype and shape; on success *out is the tensor. A missing tensor or
 * a dtype/shape mismatch is an error naming the file, the tensor, what was found and what was
 * expected. */
ts_status ts_st_expect(const ts_safetensors *st, const char *name, const char *dtype, int ndim,
                       const int64_t *shape, const ts_st_tensor **out);

/* Number of elements of a shape (1 for ndim 0). */
int64_t ts_st_numel(int ndim, const int64_t *shape);

/*
 * Writing (raw bytes are written as they are in memory: tunescale only builds for little-endian
 * hosts, the byte order the format prescribes). Tensors are laid out grouped by element size,
 * largest first, and in the order added within a group (so an all-F32 file is in the order added);
 * this keeps every tensor aligned to its element size with no padding between tensors. The header
 * is padded with spaces so the data section starts at a multiple of 8 bytes.
 */
typedef struct ts_st_writer ts_st_writer;

ts_st_writer *ts_st_writer_new(void); /* NULL when out of memory */

/* Adds a tensor whose bytes are REFERENCED, not copied: data must stay alive and unchanged until
 * ts_st_write returns. nbytes must equal numel(shape) * dtype size. Names must be unique, under
 * 256 bytes and not "__metadata__". */
ts_status ts_st_add(ts_st_writer *w, const char *name, const char *dtype, int ndim,
                    const int64_t *shape, const void *data, size_t nbytes);
/* Same, but the bytes are copied now (for temporaries such as scalars built on the stack). */
ts_status ts_st_add_copy(ts_st_writer *w, const char *name, const char *dtype, int ndim,
                         const int64_t *shape, const void *data, size_t nbytes);
/* Adds or replaces a metadata entry. "tunescale_sha256" is reserved: the writer sets it. */
ts_status ts_st_add_meta(ts_st_writer *w, const char *key, const char *value);

/* Writes the file atomically (temporary file, fsync, rename, fsync of the directory). The writer
 * stays usable: writing again writes the same tensors again. */
ts_status ts_st_write(ts_st_writer *w, const char *path);
void ts_st_writer_free(ts_st_writer *w);

#endif
