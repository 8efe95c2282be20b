/*
 * safetensors.c — the safetensors reader (whole-file read, strict validation, checksum check)
 * and writer (atomic, 8-aligned data section, checksum in __metadata__). See safetensors.h.
 */
#include "util/safetensors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/fsutil.h"
#include "util/sha256.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; tunescale supports little-endian hosts only"
#endif

/* The official implementation refuses headers over 100 MB; a larger length means the file is
 * something else. */
#define MAX_HEADER_LEN ((uint64_t)100 * 1000 * 1000)
/* Integers beyond 2^53 cannot come through JSON doubles exactly. */
#define MAX_JSON_INT 9007199254740992.0

static const struct {
    const char *name;
    size_t size;
} dtype_table[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2},  {"BF16", 2},    {"I64", 8},
    {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U64", 8},     {"U32", 4},
    {"U16", 2}, {"U8", 1},  {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
};

size_t ts_st_dtype_size(const char *dtype) {
    if (!dtype) return 0;
    for (size_t i = 0; i < sizeof dtype_table / sizeof dtype_table[0]; i++)
        if (strcmp(dtype_table[i].name, dtype) == 0) return dtype_table[i].size;
    return 0;
}

int64_t ts_st_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

/* numel * elem_size with overflow and sign checks; 0 on success. */
static int shape_bytes(int ndim, const int64_t *shape, size_t elem_size, size_t *out) {
    uint64_t n = elem_size;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        uint64_t d = (uint64_t)shape[i];
        if (d && n > UINT64_MAX / d) return -1;
        n *= d;
    }
    if (n > SIZE_MAX) return -1;
    *out = (size_t)n;
    return 0;
}

/* "[3,7]" into buf. */
static const char *shape_str(int ndim, const int64_t *shape, char *buf, size_t cap) {
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && used < cap; i++)
        used +=
            (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
    return buf;
}

/* ---------------------------------------------------------------------------------------------
 * Reading
 */

static uint64_t load_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Reads the file so that the data section lands 8-byte aligned in memory. */
static ts_status read_file_aligned(ts_safetensors *st) {
    const char *path = st->path;
    FILE *f = fopen(path, "rb");
    if (!f) return ts_set_error("%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return ts_set_error("%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    unsigned char prefix[8];
    if (size < 8 || fread(prefix, 1, 8, f) != 8) {
        fclose(f);
        return ts_set_error("%s: truncated safetensors file (%zu bytes, shorter than the 8-byte "
                            "header length)",
                            path, size);
    }
    uint64_t hlen = load_le64(prefix);
    if (hlen > MAX_HEADER_LEN) {
        fclose(f);
        return ts_set_error("%s: not a safetensors file (header length %llu is implausible)", path,
                            (unsigned long long)hlen);
    }
    if (hlen > size - 8) {
        fclose(f);
        return ts_set_error("%s: truncated safetensors file (header says %llu bytes, file has %zu "
                            "after the length field)",
                            path, (unsigned long long)hlen, size - 8);
    }
    size_t data_start = 8 + (size_t)hlen;
    size_t pad = (8 - data_start % 8) % 8;
    char *mem = malloc(size + pad + 1);
    if (!mem) {
        fclose(f);
        return ts_set_error_status(TS_ENOMEM, "%s: out of host memory reading %zu bytes", path,
                                   size);
    }
    char *data = mem + pad;
    memcpy(data, prefix, 8);
    size_t got = fread(data + 8, 1, size - 8, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != size - 8) {
        free(mem);
        return ts_set_error("%s: read error (got %zu of %zu bytes; did the file change?)", path,
                            got + 8, size);
    }
    data[size] = '\0';
    st->mem = mem;
    st->data = data;
    st->size = size;
    st->data_start = data_start;
    return TS_OK;
}

/* A non-negative integral JSON number below 2^53. */
static int json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= MAX_JSON_INT)) return -1;
    uint64_t u = (uint64_t)d;
    if ((double)u != d) return -1;
    *out = u;
    return 0;
}

static ts_status parse_tensor(const ts_safetensors *st, const cJSON *item, ts_st_tensor *t,
                              size_t data_size) {
    const char *path = st->path;
    const char *name = item->string;
    if (!cJSON_IsObject(item))
        return ts_set_error("%s: header entry \"%s\" is not an object", path, name);
    size_t name_len = strlen(name);
    if (name_len == 0 || name_len >= TS_ST_MAX_NAME)
        return ts_set_error("%s: tensor name of %zu bytes (must be 1 to %d)", path, name_len,
                            TS_ST_MAX_NAME - 1);
    memcpy(t->name, name, name_len + 1);

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    if (!cJSON_IsString(dtype))
        return ts_set_error("%s: tensor %s has no \"dtype\" string", path, name);
    size_t esize = ts_st_dtype_size(dtype->valuestring);
    if (!esize)
        return ts_set_error("%s: tensor %s has unknown dtype \"%.32s\"", path, name,
                            dtype->valuestring);
    snprintf(t->dtype, sizeof t->dtype, "%s", dtype->valuestring);

    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    if (!cJSON_IsArray(shape))
        return ts_set_error("%s: tensor %s has no \"shape\" array", path, name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > TS_ST_MAX_NDIM)
        return ts_set_error("%s: tensor %s has %d dimensions (at most %d supported)", path, name,
                            ndim, TS_ST_MAX_NDIM);
    t->ndim = ndim;
    int i = 0;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, shape) {
        uint64_t d;
        if (json_uint(dim, &d) != 0)
            return ts_set_error("%s: tensor %s: shape entries must be non-negative integers", path,
                                name);
        t->shape[i++] = (int64_t)d;
    }

    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    uint64_t begin, end;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
        json_uint(cJSON_GetArrayItem(offs, 0), &begin) != 0 ||
        json_uint(cJSON_GetArrayItem(offs, 1), &end) != 0)
        return ts_set_error("%s: tensor %s: \"data_offsets\" must be [begin, end] with "
                            "non-negative integers",
                            path, name);
    if (end < begin)
        return ts_set_error("%s: tensor %s: data_offsets [%llu, %llu] end before they begin", path,
                            name, (unsigned long long)begin, (unsigned long long)end);
    if (end > data_size)
        return ts_set_error("%s: truncated safetensors file (tensor %s ends at data byte %llu, "
                            "the data section has %zu bytes)",
                            path, name, (unsigned long long)end, data_size);
    t->offset = (size_t)begin;
    t->nbytes = (size_t)(end - begin);

    size_t want;
    char sbuf[256];
    if (shape_bytes(t->ndim, t->shape, esize, &want) != 0)
        return ts_set_error("%s: tensor %s: shape %s is too large", path, name,
                            shape_str(t->ndim, t->shape, sbuf, sizeof sbuf));
    if (want != t->nbytes)
        return ts_set_error("%s: tensor %s: data_offsets span %zu bytes but %s %s needs %zu", path,
                            name, t->nbytes, t->dtype,
                            shape_str(t->ndim, t->shape, sbuf, sizeof sbuf), want);
    return TS_OK;
}

static ts_status parse_metadata(const ts_safetensors *st, const cJSON *meta) {
    if (!cJSON_IsObject(meta))
        return ts_set_error("%s: \"__metadata__\" is not an object", st->path);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, meta) {
        if (!cJSON_IsString(kv))
            return ts_set_error("%s: metadata value for \"%s\" is not a string", st->path,
                                kv->string);
    }
    return TS_OK;
}

static int cmp_by_name(const void *a, const void *b) {
    const ts_st_tensor *x = *(const ts_st_tensor *const *)a;
    const ts_st_tensor *y = *(const ts_st_tensor *const *)b;
    return strcmp(x->name, y->name);
}

static int cmp_by_offset(const void *a, const void *b) {
    const ts_st_tensor *x = *(const ts_st_tensor *const *)a;
    const ts_st_tensor *y = *(const ts_st_tensor *const *)b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1;
    return 0;
}

/* Names unique; tensors tile the data section with no gap, overlap or leftover. */
static ts_status check_layout(const ts_safetensors *st) {
    size_t data_size = st->size - st->data_start;
    if (st->n == 0) {
        if (data_size != 0)
            return ts_set_error("%s: %zu data bytes but no tensors in the header", st->path,
                                data_size);
        return TS_OK;
    }
    const ts_st_tensor **idx = malloc(st->n * sizeof *idx);
    if (!idx) return ts_set_error_status(TS_ENOMEM, "%s: out of host memory", st->path);
    for (size_t i = 0; i < st->n; i++)
        idx[i] = &st->tensors[i];

    ts_status rc = TS_OK;
    qsort(idx, st->n, sizeof *idx, cmp_by_name);
    for (size_t i = 1; i < st->n && rc == TS_OK; i++)
        if (strcmp(idx[i - 1]->name, idx[i]->name) == 0)
            rc = ts_set_error("%s: tensor %s appears twice in the header", st->path, idx[i]->name);

    if (rc == TS_OK) qsort(idx, st->n, sizeof *idx, cmp_by_offset);
    size_t expect = 0;
    for (size_t i = 0; i < st->n && rc == TS_OK; i++) {
        const ts_st_tensor *t = idx[i];
        if (t->offset < expect)
            rc = ts_set_error("%s: tensors %s and %s overlap in the data section", st->path,
                              idx[i - 1]->name, t->name);
        else if (t->offset > expect)
            rc = ts_set_error("%s: data bytes %zu to %zu belong to no tensor (gap before %s)",
                              st->path, expect, t->offset, t->name);
        expect = t->offset + t->nbytes;
    }
    if (rc == TS_OK && expect != data_size)
        rc = ts_set_error("%s: %zu unexpected bytes after the last tensor", st->path,
                          data_size - expect);
    free(idx);
    return rc;
}

static int is_hex64(const char *s) {
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
    }
    return i == 64;
}

static ts_status check_checksum(const ts_safetensors *st) {
    const char *want = ts_st_meta(st, TS_ST_CHECKSUM_KEY);
    if (!want) return TS_OK;
    if (!is_hex64(want))
        return ts_set_error("%s: metadata %s is not 64 hex digits", st->path, TS_ST_CHECKSUM_KEY);
    ts_sha256 *h = ts_sha256_new();
    if (!h)
        return ts_set_error_status(TS_ENOMEM, "%s: cannot start SHA-256 (out of memory?)",
                                   st->path);
    ts_sha256_update(h, st->data + st->data_start, st->size - st->data_start);
    char got[65];
    ts_sha256_finish_hex(h, got);
    if (strcasecmp(got, want) != 0)
        return ts_set_error("%s: checksum mismatch (file corrupt): data SHA-256 %.16s..., "
                            "header records %.16s...",
                            st->path, got, want);
    return TS_OK;
}

static ts_status parse_header(ts_safetensors *st) {
    const char *hdr = st->data + 8;
    size_t hlen = st->data_start - 8;
    size_t data_size = st->size - st->data_start;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, hlen, &end, 0);
    if (!root) {
        size_t at = end && end >= hdr ? (size_t)(end - hdr) : 0;
        return ts_set_error("%s: safetensors header is not valid JSON (error near header byte %zu "
                            "of %zu)",
                            st->path, at, hlen);
    }
    ts_status rc = TS_OK;
    if (!cJSON_IsObject(root))
        rc = ts_set_error("%s: safetensors header is not a JSON object", st->path);
    for (const char *p = end; rc == TS_OK && p < hdr + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            rc = ts_set_error("%s: unexpected bytes after the JSON header", st->path);

    size_t count = 0;
    const cJSON *item;
    if (rc == TS_OK) {
        cJSON_ArrayForEach(item, root) count += strcmp(item->string, "__metadata__") != 0;
        if (count && !(st->tensors = calloc(count, sizeof *st->tensors)))
            rc = ts_set_error_status(TS_ENOMEM, "%s: out of host memory", st->path);
    }
    int seen_meta = 0;
    for (item = root->child; rc == TS_OK && item; item = item->next) {
        if (strcmp(item->string, "__metadata__") != 0) {
            rc = parse_tensor(st, item, &st->tensors[st->n], data_size);
            if (rc == TS_OK) st->n++;
        } else if (seen_meta++) {
            rc = ts_set_error("%s: \"__metadata__\" appears twice", st->path);
        } else {
            rc = parse_metadata(st, item);
        }
    }
    if (rc == TS_OK && seen_meta)
        st->metadata = cJSON_DetachItemFromObjectCaseSensitive(root, "__metadata__");
    cJSON_Delete(root);
    return rc;
}

ts_status ts_st_open(ts_safetensors *st, const char *path) {
    memset(st, 0, sizeof *st);
    if (strlen(path) >= sizeof st->path) return ts_set_error("%.200s...: path too long", path);
    snprintf(st->path, sizeof st->path, "%s", path);
    if (read_file_aligned(st) != TS_OK || parse_header(st) != TS_OK || check_layout(st) != TS_OK ||
        check_checksum(st) != TS_OK) {
        ts_st_close(st);
        return TS_ERR;
    }
    return TS_OK;
}

void ts_st_close(ts_safetensors *st) {
    free(st->mem);
    free(st->tensors);
    cJSON_Delete(st->metadata);
    memset(st, 0, sizeof *st);
}

const ts_st_tensor *ts_st_find(const ts_safetensors *st, const char *name) {
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

const void *ts_st_data(const ts_safetensors *st, const ts_st_tensor *t) {
    return st->data + st->data_start + t->offset;
}

const char *ts_st_meta(const ts_safetensors *st, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(st->metadata, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

ts_status ts_st_expect(const ts_safetensors *st, const char *name, const char *dtype, int ndim,
                       const int64_t *shape, const ts_st_tensor **out) {
    *out = NULL;
    const ts_st_tensor *t = ts_st_find(st, name);
    if (!t) return ts_set_error("%s: no tensor named %s", st->path, name);
    int same = strcmp(t->dtype, dtype) == 0 && t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char got[256], want[256];
        return ts_set_error("%s: tensor %s is %s %s, expected %s %s", st->path, name, t->dtype,
                            shape_str(t->ndim, t->shape, got, sizeof got), dtype,
                            shape_str(ndim, shape, want, sizeof want));
    }
    *out = t;
    return TS_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Writing
 */

typedef struct {
    char name[TS_ST_MAX_NAME];
    char dtype[8];
    int ndim;
    int64_t shape[TS_ST_MAX_NDIM];
    const void *data;
    size_t nbytes;
    size_t esize;
    void *owned;  /* the copy made by ts_st_add_copy, else NULL */
    size_t order; /* position in the order added */
} writer_entry;

struct ts_st_writer {
    writer_entry *e;
    size_t n, cap;
    cJSON *meta;
};

ts_st_writer *ts_st_writer_new(void) {
    ts_st_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->meta = cJSON_CreateObject();
    if (!w->meta) {
        free(w);
        return NULL;
    }
    return w;
}

void ts_st_writer_free(ts_st_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n; i++)
        free(w->e[i].owned);
    free(w->e);
    cJSON_Delete(w->meta);
    free(w);
}

static ts_status add_entry(ts_st_writer *w, const char *name, const char *dtype, int ndim,
                           const int64_t *shape, const void *data, size_t nbytes, int copy) {
    size_t name_len = name ? strlen(name) : 0;
    if (name_len == 0 || name_len >= TS_ST_MAX_NAME)
        return ts_set_error("safetensors writer: tensor name of %zu bytes (must be 1 to %d)",
                            name_len, TS_ST_MAX_NAME - 1);
    if (strcmp(name, "__metadata__") == 0)
        return ts_set_error("safetensors writer: \"__metadata__\" is not a tensor name");
    size_t esize = ts_st_dtype_size(dtype);
    if (!esize)
        return ts_set_error("safetensors writer: tensor %s: unknown dtype \"%s\"", name,
                            dtype ? dtype : "(null)");
    if (ndim < 0 || ndim > TS_ST_MAX_NDIM)
        return ts_set_error("safetensors writer: tensor %s: %d dimensions (0 to %d supported)",
                            name, ndim, TS_ST_MAX_NDIM);
    size_t want;
    if (shape_bytes(ndim, shape, esize, &want) != 0)
        return ts_set_error("safetensors writer: tensor %s: negative or oversized shape", name);
    if (want != nbytes) {
        char sbuf[256];
        return ts_set_error("safetensors writer: tensor %s: %zu bytes given, %s %s needs %zu", name,
                            nbytes, dtype, shape_str(ndim, shape, sbuf, sizeof sbuf), want);
    }
    if (nbytes && !data) return ts_set_error("safetensors writer: tensor %s: no data", name);
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->e[i].name, name) == 0)
            return ts_set_error("safetensors writer: tensor %s added twice", name);
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        writer_entry *grown = realloc(w->e, cap * sizeof *grown);
        if (!grown) return ts_set_error_status(TS_ENOMEM, "safetensors writer: out of host memory");
        w->e = grown;
        w->cap = cap;
    }
    writer_entry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    memcpy(e->name, name, name_len + 1);
    snprintf(e->dtype, sizeof e->dtype, "%s", dtype);
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        e->shape[i] = shape[i];
    e->nbytes = nbytes;
    e->esize = esize;
    e->order = w->n;
    e->data = data;
    if (copy && nbytes) {
        e->owned = malloc(nbytes);
        if (!e->owned)
            return ts_set_error_status(TS_ENOMEM,
                                       "safetensors writer: tensor %s: out of host memory", name);
        memcpy(e->owned, data, nbytes);
        e->data = e->owned;
    }
    w->n++;
    return TS_OK;
}

ts_status ts_st_add(ts_st_writer *w, const char *name, const char *dtype, int ndim,
                    const int64_t *shape, const void *data, size_t nbytes) {
    return add_entry(w, name, dtype, ndim, shape, data, nbytes, 0);
}

ts_status ts_st_add_copy(ts_st_writer *w, const char *name, const char *dtype, int ndim,
                         const int64_t *shape, const void *data, size_t nbytes) {
    return add_entry(w, name, dtype, ndim, shape, data, nbytes, 1);
}

ts_status ts_st_add_meta(ts_st_writer *w, const char *key, const char *value) {
    if (!key || !value) return ts_set_error("safetensors writer: metadata key or value missing");
    if (strcmp(key, TS_ST_CHECKSUM_KEY) == 0)
        return ts_set_error("safetensors writer: metadata key %s is reserved", key);
    cJSON *v = cJSON_CreateString(value);
    if (!v) return ts_set_error_status(TS_ENOMEM, "safetensors writer: out of host memory");
    int done = cJSON_GetObjectItemCaseSensitive(w->meta, key)
                   ? cJSON_ReplaceItemInObjectCaseSensitive(w->meta, key, v)
                   : cJSON_AddItemToObject(w->meta, key, v);
    if (!done) {
        cJSON_Delete(v);
        return ts_set_error_status(TS_ENOMEM, "safetensors writer: out of host memory");
    }
    return TS_OK;
}

/* Larger elements first, then the order added. */
static int cmp_layout(const void *a, const void *b) {
    const writer_entry *x = *(const writer_entry *const *)a;
    const writer_entry *y = *(const writer_entry *const *)b;
    if (x->esize != y->esize) return x->esize > y->esize ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The header JSON (unpadded) for the entries in layout order, NULL when out of memory. */
static char *build_header(const ts_st_writer *w, writer_entry *const *lay, const char *sha) {
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_Duplicate(w->meta, 1);
    if (!root || !meta || !cJSON_AddStringToObject(meta, TS_ST_CHECKSUM_KEY, sha)) {
        cJSON_Delete(root);
        cJSON_Delete(meta);
        return NULL;
    }
    cJSON_AddItemToObject(root, "__metadata__", meta);
    size_t offset = 0;
    for (size_t i = 0; i < w->n; i++) {
        const writer_entry *e = lay[i];
        char sbuf[256], obuf[64];
        snprintf(obuf, sizeof obuf, "[%zu,%zu]", offset, offset + e->nbytes);
        offset += e->nbytes;
        cJSON *t = cJSON_CreateObject();
        if (!t || !cJSON_AddStringToObject(t, "dtype", e->dtype) ||
            !cJSON_AddRawToObject(t, "shape", shape_str(e->ndim, e->shape, sbuf, sizeof sbuf)) ||
            !cJSON_AddRawToObject(t, "data_offsets", obuf) ||
            !cJSON_AddItemToObject(root, e->name, t)) {
            cJSON_Delete(t);
            cJSON_Delete(root);
            return NULL;
        }
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

ts_status ts_st_write(ts_st_writer *w, const char *path) {
    writer_entry **lay = malloc((w->n ? w->n : 1) * sizeof *lay);
    if (!lay) return ts_set_error_status(TS_ENOMEM, "%s: out of host memory", path);
    for (size_t i = 0; i < w->n; i++)
        lay[i] = &w->e[i];
    qsort(lay, w->n, sizeof *lay, cmp_layout);

    ts_sha256 *h = ts_sha256_new();
    if (!h) {
        free(lay);
        return ts_set_error_status(TS_ENOMEM, "%s: cannot start SHA-256 (out of memory?)", path);
    }
    for (size_t i = 0; i < w->n; i++)
        ts_sha256_update(h, lay[i]->data, lay[i]->nbytes);
    char sha[65];
    ts_sha256_finish_hex(h, sha);

    char *header = build_header(w, lay, sha);
    if (!header) {
        free(lay);
        return ts_set_error_status(TS_ENOMEM,
                                   "%s: out of host memory building the safetensors header", path);
    }
    size_t hlen = strlen(header);
    size_t padded = (hlen + 7) / 8 * 8;
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++)
        prefix[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    static const char spaces[8] = "       ";

    ts_atomic_file af;
    if (ts_atomic_open(&af, path) != TS_OK) {
        free(header);
        free(lay);
        return TS_ERR;
    }
    int ok = fwrite(prefix, 1, 8, af.fp) == 8 && fwrite(header, 1, hlen, af.fp) == hlen &&
             fwrite(spaces, 1, padded - hlen, af.fp) == padded - hlen;
    for (size_t i = 0; ok && i < w->n; i++)
        if (lay[i]->nbytes) ok = fwrite(lay[i]->data, 1, lay[i]->nbytes, af.fp) == lay[i]->nbytes;
    int err = errno;
    free(header);
    free(lay);
    if (!ok) {
        ts_atomic_abort(&af);
        return ts_set_error("%s: write failed: %s (nothing was replaced)", path, strerror(err));
    }
    return ts_atomic_commit(&af);
}
