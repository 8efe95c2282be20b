/* fsutil.c — atomic writes, whole-file reads, directory helpers. */
#define _GNU_SOURCE
#include "util/fsutil.h"

#include <cjson/cJSON.h>

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

ts_status ts_read_file(const char *path, char **data, size_t *len) {
    *data = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read (a
     * FIFO named x.abc in an input folder once blocked forever). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return ts_set_error("%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ts_set_error("%s: not a regular file (FIFOs, devices and sockets are not read)",
                            path);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return ts_set_error("%s: cannot open: %s", path, strerror(errno));
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            fclose(f);
            return ts_set_error_status(TS_ENOMEM, "%s: out of host memory while reading", path);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        cap *= 2;
        char *grown = realloc(buf, cap + 1);
        if (!grown) free(buf);
        buf = grown;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return ts_set_error("%s: read error", path);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return TS_OK;
}

static void dir_of(const char *path, char *dir, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, cap, ".");
    } else if (slash == path) {
        snprintf(dir, cap, "/");
    } else {
        snprintf(dir, cap, "%.*s", (int)(slash - path), path);
    }
}

ts_status ts_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return ts_set_error("%s: cannot open directory: %s", dir, strerror(errno));
    fsync(fd); /* some file systems refuse fsync on directories; the rename still stands */
    close(fd);
    return TS_OK;
}

/* This machine's name as it goes into temporaries' names: letters, digits, '-' and '.' only
 * (at most 63), "" when it has none. */
static const char *host_tag(void) {
    static char tag[64];
    static int done;
    if (!done) {
        char name[256] = "";
        if (gethostname(name, sizeof name - 1) != 0) name[0] = 0;
        size_t n = 0;
        for (const char *c = name; *c && n < sizeof tag - 1; c++)
            if (isalnum((unsigned char)*c) || *c == '-' || *c == '.') tag[n++] = *c;
        tag[n] = 0;
        done = 1;
    }
    return tag;
}

/* NAME.tmp.PID@HOST: two writers on different machines of a shared file system (MPI ranks,
 * Slurm array tasks) can have the same PID, and the host keeps their temporaries apart. Created
 * exclusively and never through a symbolic link: a link planted under that name must not send
 * the write elsewhere. A file already there under our own PID and host is a leftover of ours. */
ts_status ts_atomic_open(ts_atomic_file *af, const char *path) {
    memset(af, 0, sizeof *af);
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld@%s", path, (long)getpid(), host_tag());
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(af->tmp, flags, 0644);
    if (fd < 0 && errno == EEXIST && unlink(af->tmp) == 0) fd = open(af->tmp, flags, 0644);
    if (fd >= 0 && !(af->fp = fdopen(fd, "wb"))) close(fd);
    if (!af->fp) return ts_set_error("%s: cannot write: %s", path, strerror(errno));
    return TS_OK;
}

void ts_atomic_abort(ts_atomic_file *af) {
    if (af->fp) fclose(af->fp);
    af->fp = NULL;
    if (af->tmp[0]) unlink(af->tmp);
}

ts_status ts_atomic_commit(ts_atomic_file *af) {
    int err = 0;
    if (fflush(af->fp) != 0 || ferror(af->fp)) err = errno ? errno : EIO;
    if (!err && fsync(fileno(af->fp)) != 0) err = errno;
    if (fclose(af->fp) != 0 && !err) err = errno ? errno : EIO;
    af->fp = NULL;
    if (!err && rename(af->tmp, af->path) != 0) err = errno;
    if (err) {
        unlink(af->tmp);
        return ts_set_error("%s: write failed: %s (nothing was replaced)", af->path, strerror(err));
    }
    char dir[4096];
    dir_of(af->path, dir, sizeof dir);
    ts_fsync_dir(dir);
    return TS_OK;
}

ts_status ts_write_file_atomic(const char *path, const void *data, size_t len) {
    ts_atomic_file af;
    if (ts_atomic_open(&af, path) != TS_OK) return TS_ERR;
    if (len && fwrite(data, 1, len, af.fp) != len) {
        int e = errno;
        ts_atomic_abort(&af);
        return ts_set_error("%s: write failed: %s", path, strerror(e));
    }
    return ts_atomic_commit(&af);
}

int ts_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int ts_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

ts_status ts_mkdir_p(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return ts_set_error("%s: cannot create directory: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return ts_set_error("%s: cannot create directory: %s", buf, strerror(errno));
    if (!ts_is_dir(buf)) return ts_set_error("%s: exists and is not a directory", buf);
    return TS_OK;
}

void ts_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char child[4096];
                ts_remove_tree(ts_path_join(child, sizeof child, path, e->d_name));
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

char *ts_path_join(char *out, size_t cap, const char *a, const char *b) {
    size_t la = strlen(a);
    if (la && a[la - 1] == '/')
        snprintf(out, cap, "%s%s", a, b);
    else
        snprintf(out, cap, "%s/%s", a, b);
    return out;
}

const char *ts_basename(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

const char *const ts_safe_name_rule =
    "must be 1 to 63 characters of letters, digits, '.', '_', '+' or '-', not starting with '.' "
    "and without \"..\" (it names files and folders)";

int ts_safe_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 63 || name[0] == '.' || strstr(name, "..")) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '+' && c != '-') return 0;
    }
    return 1;
}

int ts_has_suffix(const char *name, const char *suffix) {
    size_t n = strlen(name), m = strlen(suffix);
    return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

/* A process that can still write: it exists and is not a zombie (a dead child nobody reaped,
 * common in containers whose init does not reap, still answers kill(pid, 0)). */
static int writer_alive(long pid) {
    if (kill((pid_t)pid, 0) != 0 && errno != EPERM) return 0;
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *paren = strrchr(buf, ')'); /* "pid (comm) S ...": comm may hold spaces */
    return !(paren && paren[1] == ' ' && paren[2] == 'Z');
}

/* Whether `tag` ("PID@HOST", exactly) names a writer of this host that is gone. Names without
 * the host (NAME.tmp.123) are not tunescale's and never count. */
static int tag_is_dead_writer(const char *tag) {
    char *end;
    if (!isdigit((unsigned char)tag[0])) return 0;
    long pid = strtol(tag, &end, 10);
    if (pid <= 0 || *end != '@' || strcmp(end + 1, host_tag())) return 0;
    /* A live writer keeps its temporary; only a dead one's is debris. */
    return pid != (long)getpid() && !writer_alive(pid);
}

int ts_remove_stale_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *mark = strstr(e->d_name, ".tmp.");
        if (!mark || !tag_is_dead_writer(mark + 5)) continue;
        char path[4352];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}

void ts_owned_tag(char *out, size_t cap) {
    snprintf(out, cap, "%ld@%s", (long)getpid(), host_tag());
}

int ts_remove_stale_folders(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    size_t np = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, np) || !tag_is_dead_writer(e->d_name + np)) continue;
        char path[4352];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            ts_remove_tree(path);
            removed++;
        }
    }
    closedir(d);
    return removed;
}

static const char owned_marker[] = ".tunescale-owned";

ts_status ts_fresh_owned_dir(const char *path) {
    struct stat sb;
    char marker[4352];
    snprintf(marker, sizeof marker, "%s/%s", path, owned_marker);
    if (lstat(path, &sb) == 0) {
        struct stat mb;
        if (!S_ISDIR(sb.st_mode) || lstat(marker, &mb) != 0 || !S_ISREG(mb.st_mode))
            return ts_set_error_status(TS_EUSAGE,
                                       "%s: exists and was not made by tunescale; move it away "
                                       "or choose another --out (nothing was changed)",
                                       path);
        ts_remove_tree(path);
    }
    if (ts_mkdir_p(path) != TS_OK) return TS_ERR;
    return ts_write_file_atomic(marker, "tunescale\n", 10);
}

int ts_is_owned_dir(const char *path) {
    char marker[4352];
    snprintf(marker, sizeof marker, "%s/%s", path, owned_marker);
    struct stat mb;
    return lstat(marker, &mb) == 0 && S_ISREG(mb.st_mode);
}

ts_status ts_mark_owned_dir(const char *path) {
    char marker[4352];
    snprintf(marker, sizeof marker, "%s/%s", path, owned_marker);
    if (ts_is_owned_dir(path)) return TS_OK;
    return ts_write_file_atomic(marker, "tunescale\n", 10);
}

cJSON *ts_read_json(const char *path) {
    char *text;
    size_t len;
    if (ts_read_file(path, &text, &len) != TS_OK) return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!j) ts_set_error("%s: not valid JSON", path);
    return j;
}

ts_status ts_write_json_atomic(const char *path, cJSON *doc) {
    char *text = doc ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    if (!text) return ts_set_error_status(TS_ENOMEM, "out of host memory writing %s", path);
    size_t len = strlen(text);
    text[len] = '\n'; /* the terminator becomes the final newline: length + 1 */
    ts_status st = ts_write_file_atomic(path, text, len + 1);
    free(text);
    return st;
}
