/*
 * fsutil.h — file-system helpers with the engine's crash-safety rules built in.
 *
 * Every file tunescale writes goes through ts_atomic_*: it is written under a temporary name in
 * the same directory, flushed, fsynced and renamed, and the directory is fsynced, so a reader
 * sees either the old file or the whole new one, never half a file.
 */
#ifndef TS_UTIL_FSUTIL_H
#define TS_UTIL_FSUTIL_H

#include <stddef.h>
#include <stdio.h>

#include "util/error.h"

/* Reads a whole file into a NUL-terminated malloc'd buffer. */
ts_status ts_read_file(const char *path, char **data, size_t *len);

/* Writes data to path atomically. */
ts_status ts_write_file_atomic(const char *path, const void *data, size_t len);
struct cJSON;
/* Writes doc as cJSON_Print's text and a final newline, atomically as above, and deletes doc;
 * a NULL doc (its building ran out of memory) is reported as out of memory. */
ts_status ts_write_json_atomic(const char *path, struct cJSON *doc);
/* Reads and parses a JSON file: NULL and an error naming the file when it is missing,
 * unreadable or not valid JSON. The caller cJSON_Deletes the result. */
struct cJSON *ts_read_json(const char *path);

/* Streaming form: open a temporary sibling, write to ->fp, then commit or abort. */
typedef struct {
    FILE *fp;
    char path[4096];
    char tmp[4096];
} ts_atomic_file;
ts_status ts_atomic_open(ts_atomic_file *af, const char *path);
ts_status ts_atomic_commit(ts_atomic_file *af); /* flush, fsync, rename, fsync dir */
void ts_atomic_abort(ts_atomic_file *af);       /* close and unlink the temporary */

/* Deletes the temporaries (NAME.tmp.PID@HOST) that writers of this host killed mid-write left
 * in dir: those whose process is gone. Other names, other hosts' temporaries and anything not a
 * regular file are left alone. Returns how many were removed. */
int ts_remove_stale_temporaries(const char *dir);
/* The same for folders named PREFIX + PID@HOST (data prepare's staging folders). */
int ts_remove_stale_folders(const char *dir, const char *prefix);
/* "PID@HOST" of this process, for names that say who made them. */
void ts_owned_tag(char *out, size_t cap);

/* Folders tunescale made carry a marker file; only those are ever removed or replaced.
 * ts_fresh_owned_dir: an empty marked folder at path, replacing a marked one; anything else
 * already there is a usage error that leaves it untouched. */
ts_status ts_fresh_owned_dir(const char *path);
int ts_is_owned_dir(const char *path);
ts_status ts_mark_owned_dir(const char *path);

ts_status ts_mkdir_p(const char *path);
int ts_is_dir(const char *path);
int ts_is_file(const char *path);
ts_status ts_fsync_dir(const char *dir);
/* Removes a file or a directory tree; missing paths are fine. */
void ts_remove_tree(const char *path);
/* Joins a and b with one '/'; returns out. */
char *ts_path_join(char *out, size_t cap, const char *a, const char *b);
/* The last path component (no allocation). */
const char *ts_basename(const char *path);
/* A name that may become a file or folder name (model and preset names from JSON files): 1 to
 * 63 characters from [A-Za-z0-9._+-], not starting with '.', no "..": it cannot leave the folder
 * it is joined to. ts_safe_name_rule says so for messages. */
int ts_safe_name(const char *name);
extern const char *const ts_safe_name_rule;
/* Lower-case file-name suffix test, e.g. ts_has_suffix(name, ".tar.gz"). */
int ts_has_suffix(const char *name, const char *suffix);

#endif
