/*
 * ingest.h — reading tunes from .abc files, JSON arrays of tune records, CSV tables, folders
 * and archives (zip, tar.gz through libarchive).
 *
 * ABC: a tune starts at a line "X:" and ends at the first empty line (ABC 2.1, section 2.2);
 * text before the first X: (a file header or prose) is skipped. JSON and CSV: The Session's
 * record format — tune_id, setting_id, name, type, meter, mode, abc — where `abc` holds only the
 * body, so the header lines are rebuilt from the other fields.
 */
#ifndef TS_DATA_INGEST_H
#define TS_DATA_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "data/text.h"
#include "data/tunes.h"

typedef enum { TS_FMT_UNKNOWN, TS_FMT_ABC, TS_FMT_JSON, TS_FMT_CSV, TS_FMT_ARCHIVE } ts_format;

/* One file (or archive member) that was read, for the report and the cache key. */
typedef struct {
    char name[1024];
    char sha256[65];
    uint64_t bytes;
    uint32_t tunes;
    ts_format format;
    int latin1; /* transcoded from Latin-1 */
} ts_input_file;

typedef struct {
    ts_input_file *v;
    size_t n, cap;
    uint32_t records_without_abc; /* JSON/CSV records that had no ABC body */
} ts_input_log;

typedef struct {
    ts_encoding encoding;
    /* Bytes an archive may unpack to, per member and in all (each member also counts 1 KiB for
     * its bookkeeping); 0: TS_DEFAULT_MAX_UNPACKED. A zip bomb stops here, not at the OOM. */
    uint64_t max_unpacked;
} ts_ingest_options;

#define TS_DEFAULT_MAX_UNPACKED (1ull << 30)

/* Reads a file, folder (recursively, sorted, hidden entries skipped) or archive. Inside folders
 * and archives only .abc/.json/.csv (and archives) are read; other files are skipped. */
ts_status ts_ingest_path(const char *path, const ts_ingest_options *o, ts_tune_list *out,
                         ts_input_log *log);
void ts_input_log_free(ts_input_log *log);

/* The pieces, for tests. Each appends to out and sets *added. */
ts_status ts_ingest_abc(const char *text, size_t len, const char *source, ts_tune_list *out,
                        uint32_t *added);
ts_status ts_ingest_json(const char *text, size_t len, const char *source, ts_tune_list *out,
                         uint32_t *added, uint32_t *without_abc);
ts_status ts_ingest_csv(const char *text, size_t len, const char *source, ts_tune_list *out,
                        uint32_t *added, uint32_t *without_abc);
ts_format ts_format_from_name(const char *name);
const char *ts_format_name(ts_format f);

#endif
