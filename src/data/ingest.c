/* ingest.c — files, folders and archives: choose a reader by name, decode, hand over. */
#define _DEFAULT_SOURCE
#include "data/ingest.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fsutil.h"
#include "util/sha256.h"

ts_format ts_format_from_name(const char *name) {
    if (ts_has_suffix(name, ".abc")) return TS_FMT_ABC;
    if (ts_has_suffix(name, ".json")) return TS_FMT_JSON;
    if (ts_has_suffix(name, ".csv")) return TS_FMT_CSV;
    if (ts_has_suffix(name, ".zip") || ts_has_suffix(name, ".tar.gz") ||
        ts_has_suffix(name, ".tgz") || ts_has_suffix(name, ".tar") ||
        ts_has_suffix(name, ".tar.xz") || ts_has_suffix(name, ".tar.bz2"))
        return TS_FMT_ARCHIVE;
    return TS_FMT_UNKNOWN;
}

const char *ts_format_name(ts_format f) {
    switch (f) {
    case TS_FMT_ABC:
        return "abc";
    case TS_FMT_JSON:
        return "json";
    case TS_FMT_CSV:
        return "csv";
    case TS_FMT_ARCHIVE:
        return "archive";
    default:
        return "unknown";
    }
}

void ts_input_log_free(ts_input_log *log) {
    free(log->v);
    memset(log, 0, sizeof *log);
}

static ts_input_file *log_add(ts_input_log *log) {
    if (log->n == log->cap) {
        size_t cap = log->cap ? 2 * log->cap : 16;
        ts_input_file *v = realloc(log->v, cap * sizeof *v);
        if (!v) return NULL;
        log->v = v;
        log->cap = cap;
    }
    ts_input_file *f = &log->v[log->n++];
    memset(f, 0, sizeof *f);
    return f;
}

/* Guess a format for a file named without a known extension, from its first bytes. */
static ts_format sniff(const char *text, size_t len) {
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i < len && text[i] == '[') return TS_FMT_JSON;
    for (size_t p = 0; p + 1 < len; p++)
        if ((p == 0 || text[p - 1] == '\n') && text[p] == 'X' && text[p + 1] == ':')
            return TS_FMT_ABC;
    return TS_FMT_UNKNOWN;
}

/* Decodes and reads one text file's bytes with the reader its format names. */
static ts_status ingest_bytes(const char *name, ts_format fmt, const unsigned char *bytes, size_t n,
                              const ts_ingest_options *o, ts_tune_list *out, ts_input_log *log) {
    char *text;
    size_t len;
    ts_decoded_as how;
    ts_status dst = ts_decode_text(name, bytes, n, o->encoding, &text, &len, &how);
    if (dst != TS_OK) return dst;
    if (fmt == TS_FMT_UNKNOWN) fmt = sniff(text, len);
    ts_input_file *rec = log_add(log);
    if (!rec) {
        free(text);
        return ts_set_error_status(TS_ENOMEM, "%s: out of host memory", name);
    }
    snprintf(rec->name, sizeof rec->name, "%s", name);
    ts_sha256_hex(bytes, n, rec->sha256);
    rec->bytes = n;
    rec->format = fmt;
    rec->latin1 = how == TS_DECODED_LATIN1;
    uint32_t added = 0, without = 0;
    ts_status st;
    switch (fmt) {
    case TS_FMT_ABC:
        st = ts_ingest_abc(text, len, name, out, &added);
        break;
    case TS_FMT_JSON:
        st = ts_ingest_json(text, len, name, out, &added, &without);
        break;
    case TS_FMT_CSV:
        st = ts_ingest_csv(text, len, name, out, &added, &without);
        break;
    default:
        st = ts_set_error("%s: unknown format (expected .abc, .json, .csv, .zip or .tar.gz)", name);
    }
    free(text);
    rec->tunes = added;
    log->records_without_abc += without;
    return st;
}

/* Reads the current member into a malloc'd buffer, stopping past `limit` bytes (*over = 1). */
static ts_status read_member(struct archive *a, const char *path, const char *member,
                             uint64_t limit, unsigned char **out, size_t *len, int *over) {
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    la_ssize_t got = 0;
    *over = 0;
    while (buf && (got = archive_read_data(a, buf + n, cap - n)) > 0) {
        n += (size_t)got;
        if (n > limit) {
            *over = 1;
            break;
        }
        if (n == cap) {
            unsigned char *grown = realloc(buf, cap *= 2);
            if (!grown) free(buf);
            buf = grown;
        }
    }
    if (!buf)
        return ts_set_error_status(TS_ENOMEM, "%s: out of host memory reading %s", path, member);
    if (got < 0) {
        free(buf);
        return ts_set_error("%s: corrupt or truncated archive (member %s): %s", path, member,
                            archive_error_string(a));
    }
    *out = buf;
    *len = n;
    return TS_OK;
}

static ts_status ingest_archive(const char *path, const ts_ingest_options *o, ts_tune_list *out,
                                ts_input_log *log) {
    struct archive *a = archive_read_new();
    if (!a) return ts_set_error_status(TS_ENOMEM, "%s: out of host memory", path);
    archive_read_support_filter_all(a);
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    ts_status st = TS_OK;
    uint64_t limit = o->max_unpacked ? o->max_unpacked : TS_DEFAULT_MAX_UNPACKED, used = 0;
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
        st = ts_set_error("%s: cannot open archive: %s", path, archive_error_string(a));
        goto done;
    }
    struct archive_entry *e;
    int rc;
    unsigned members = 0;
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *member = archive_entry_pathname(e);
        if (archive_entry_filetype(e) != AE_IFREG || !member) continue;
        const char *base = ts_basename(member);
        ts_format fmt = ts_format_from_name(base);
        if (base[0] == '.' || fmt == TS_FMT_UNKNOWN || fmt == TS_FMT_ARCHIVE) continue;
        used += 1024; /* a member's log entry and names: 100k tiny members add up too */
        unsigned char *buf = NULL;
        size_t n = 0;
        int over = 0;
        if (used <= limit) st = read_member(a, path, member, limit - used, &buf, &n, &over);
        if (st != TS_OK) goto done;
        used += n;
        if (over || used > limit) {
            free(buf);
            st = ts_set_error("%s: unpacks to more than --max-unpacked %llu bytes (at member %s; "
                              "raise --max-unpacked if the archive is trusted)",
                              path, (unsigned long long)limit, member);
            goto done;
        }
        char name[1024];
        snprintf(name, sizeof name, "%s!%s", path, member);
        st = ingest_bytes(name, fmt, buf, n, o, out, log);
        free(buf);
        if (st != TS_OK) goto done;
        members++;
    }
    if (rc != ARCHIVE_EOF) {
        st = ts_set_error("%s: corrupt or truncated archive: %s", path, archive_error_string(a));
        goto done;
    }
    if (members == 0) st = ts_set_error("%s: archive holds no .abc, .json or .csv files", path);
done:
    archive_read_free(a);
    return st;
}

static ts_status ingest_file(const char *path, ts_format fmt, const ts_ingest_options *o,
                             ts_tune_list *out, ts_input_log *log) {
    if (fmt == TS_FMT_ARCHIVE) return ingest_archive(path, o, out, log);
    char *bytes;
    size_t n;
    ts_status rst = ts_read_file(path, &bytes, &n);
    if (rst != TS_OK) return rst;
    ts_status st = ingest_bytes(path, fmt, (const unsigned char *)bytes, n, o, out, log);
    free(bytes);
    return st;
}

static int skip_hidden(const struct dirent *e) {
    return e->d_name[0] != '.';
}

/* A folder holding a tunescale dataset (its dataset.json says so): its dataset.json and
 * vocab.json are tunescale's own output, not tune records (prepare --input X --out X). */
static int is_dataset_dir(const char *dir) {
    char path[4096], *text;
    size_t len;
    ts_path_join(path, sizeof path, dir, "dataset.json");
    if (!ts_is_file(path) || ts_read_file(path, &text, &len) != TS_OK) return 0;
    int yes = strstr(text, "\"tunescale.dataset/1\"") != NULL;
    free(text);
    return yes;
}

static ts_status ingest_dir(const char *dir, const ts_ingest_options *o, ts_tune_list *out,
                            ts_input_log *log) {
    struct dirent **entries;
    int n = scandir(dir, &entries, skip_hidden, alphasort); /* sorted: same order everywhere */
    if (n < 0) return ts_set_error("%s: cannot list directory: %s", dir, strerror(errno));
    ts_status st = TS_OK;
    int own = is_dataset_dir(dir);
    for (int i = 0; i < n; i++) {
        char child[4096];
        const char *name = entries[i]->d_name;
        ts_path_join(child, sizeof child, dir, name);
        struct stat sb;
        ts_format fmt = ts_format_from_name(name);
        if (own && (!strcmp(name, "dataset.json") || !strcmp(name, "vocab.json")))
            fmt = TS_FMT_UNKNOWN;
        if (st != TS_OK || stat(child, &sb) != 0) {
            /* skipped: an earlier error, or a dangling link */
        } else if (S_ISDIR(sb.st_mode)) {
            st = ingest_dir(child, o, out, log);
        } else if (fmt != TS_FMT_UNKNOWN && !S_ISREG(sb.st_mode)) {
            /* a FIFO named x.abc once blocked the run forever: only regular files are read */
            st = ts_set_error("%s: not a regular file (FIFOs, devices and sockets are not read; "
                              "remove it from the folder)",
                              child);
        } else if (fmt != TS_FMT_UNKNOWN) {
            st = ingest_file(child, fmt, o, out, log);
        }
        free(entries[i]);
    }
    free(entries);
    return st;
}

ts_status ts_ingest_path(const char *path, const ts_ingest_options *o, ts_tune_list *out,
                         ts_input_log *log) {
    struct stat st;
    if (stat(path, &st) != 0) return ts_set_error("%s: %s (check --input)", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        size_t before = log->n;
        ts_status r = ingest_dir(path, o, out, log);
        if (r != TS_OK) return r;
        if (log->n == before)
            return ts_set_error("%s: no .abc, .json, .csv or archive files in this folder", path);
        return TS_OK;
    }
    if (!S_ISREG(st.st_mode)) return ts_set_error("%s: not a regular file or folder", path);
    return ingest_file(path, ts_format_from_name(path), o, out, log);
}
