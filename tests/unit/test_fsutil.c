/* test_fsutil.c — atomic writes and the clean-up of temporaries left by killed writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "test_util.h"
#include "util/fsutil.h"

static void touch(const char *dir, const char *name) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("partial", f);
    fclose(f);
}

/* "@HOST" as this machine's temporaries end (taken from a real one). */
static void host_suffix(const char *dir, char *out, size_t cap) {
    ts_atomic_file af;
    char path[4200];
    snprintf(path, sizeof path, "%s/probe", dir);
    assert_int_equal(ts_atomic_open(&af, path), TS_OK);
    snprintf(out, cap, "%s", strrchr(af.tmp, '@'));
    ts_atomic_abort(&af);
}

static int exists(const char *dir, const char *name) {
    char path[8800];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return ts_is_file(path);
}

/* A temporary whose writer is dead is removed; a live writer's (ours) and real files stay. */
static void stale_temporaries_of_dead_writers_go(void **state) {
    const char *dir = *state;
    pid_t child = fork();
    if (child == 0) _exit(0);
    assert_true(child > 0);
    waitpid(child, NULL, 0); /* a pid that is certainly gone (not yet reused, in practice) */
    char dead[400], live[400], host[300];
    host_suffix(dir, host, sizeof host);
    snprintf(dead, sizeof dead, "checkpoint.safetensors.tmp.%ld%s", (long)child, host);
    snprintf(live, sizeof live, "result.json.tmp.%ld%s", (long)getpid(), host);
    touch(dir, dead);
    touch(dir, live);
    touch(dir, "result.json");
    touch(dir, "notes.tmp.txt"); /* not NAME.tmp.PID: left alone */
    assert_int_equal(ts_remove_stale_temporaries(dir), 1);
    assert_false(exists(dir, dead));
    assert_true(exists(dir, live));
    assert_true(exists(dir, "result.json"));
    assert_true(exists(dir, "notes.tmp.txt"));
    assert_int_equal(ts_remove_stale_temporaries("/nonexistent/dir"), 0);
}

/* A writer that died but was never reaped (a zombie, as under an init that does not reap) is
 * dead too: kill(pid, 0) still succeeds for it. */
static void zombie_writers_count_as_dead(void **state) {
    const char *dir = *state;
    pid_t child = fork();
    if (child == 0) _exit(0);
    assert_true(child > 0);
    char stat[64], buf[256] = "";
    snprintf(stat, sizeof stat, "/proc/%ld/stat", (long)child);
    for (int i = 0; i < 200; i++) { /* wait until it is a zombie, without reaping it */
        FILE *f = fopen(stat, "r");
        if (f) {
            buf[fread(buf, 1, sizeof buf - 1, f)] = 0;
            fclose(f);
        }
        if (strstr(buf, ") Z ")) break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_non_null(strstr(buf, ") Z "));
    char name[400], host[300];
    host_suffix(dir, host, sizeof host);
    snprintf(name, sizeof name, "model.safetensors.tmp.%ld%s", (long)child, host);
    touch(dir, name);
    assert_int_equal(ts_remove_stale_temporaries(dir), 1);
    assert_false(exists(dir, name));
    waitpid(child, NULL, 0);
}

/* Temporaries carry their writer's host: another machine's are left alone (its PID means
 * nothing here), this machine's are judged by their PID as before. */
static void other_hosts_temporaries_stay(void **state) {
    const char *dir = *state;
    pid_t child = fork();
    if (child == 0) _exit(0);
    assert_true(child > 0);
    waitpid(child, NULL, 0);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    ts_atomic_file af;
    char path[4200];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    assert_int_equal(ts_atomic_open(&af, path), TS_OK);
    char want[4300];
    snprintf(want, sizeof want, "%s.tmp.%ld@", path, (long)getpid());
    assert_int_equal(strncmp(af.tmp, want, strlen(want)), 0); /* NAME.tmp.PID@HOST */
    char mine[512], other[512];
    /* a dead writer of this host, and one of another host with the same (dead) pid */
    snprintf(mine, sizeof mine, "sweep.json.tmp.%ld%s", (long)child, strrchr(af.tmp, '@'));
    snprintf(other, sizeof other, "sweep.json.tmp.%ld@not-this-%.64s", (long)child, host);
    ts_atomic_abort(&af);
    touch(dir, mine);
    touch(dir, other);
    assert_int_equal(ts_remove_stale_temporaries(dir), 1);
    assert_false(exists(dir, mine));
    assert_true(exists(dir, other));
}

/* Issue 25 item 8: a user's file named like an old-style temporary (NAME.tmp.DIGITS, no host)
 * whose number is no live process is not tunescale's and stays; so does a folder or a link
 * under a dead writer's temporary name. */
static void users_tmp_named_files_stay(void **state) {
    const char *dir = *state;
    pid_t child = fork();
    if (child == 0) _exit(0);
    assert_true(child > 0);
    waitpid(child, NULL, 0);
    char bare[64], host[300], dead_dir[400], dead_link[400], path[4500];
    host_suffix(dir, host, sizeof host);
    snprintf(bare, sizeof bare, "thesis.tmp.%ld", (long)child);
    snprintf(dead_dir, sizeof dead_dir, "a.tmp.%ld%s", (long)child, host);
    snprintf(dead_link, sizeof dead_link, "b.tmp.%ld%s", (long)child, host);
    touch(dir, bare);
    touch(dir, "backup.tmp.1");
    snprintf(path, sizeof path, "%s/%s", dir, dead_dir);
    assert_int_equal(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/%s", dir, dead_link);
    assert_int_equal(symlink("backup.tmp.1", path), 0);
    assert_int_equal(ts_remove_stale_temporaries(dir), 0);
    assert_true(exists(dir, bare));
    assert_true(exists(dir, "backup.tmp.1"));
    snprintf(path, sizeof path, "%s/%s", dir, dead_dir);
    assert_true(ts_is_dir(path));
}

/* A link planted under the temporary's name is not followed: the write stays in the folder and
 * the link's target is untouched. */
static void atomic_write_never_follows_a_planted_link(void **state) {
    const char *dir = *state;
    char target[4200], path[4200];
    snprintf(target, sizeof target, "%s/precious", dir);
    touch(dir, "precious");
    snprintf(path, sizeof path, "%s/out.json", dir);
    ts_atomic_file af;
    assert_int_equal(ts_atomic_open(&af, path), TS_OK);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s", af.tmp);
    ts_atomic_abort(&af);
    assert_int_equal(symlink(target, tmp), 0);
    assert_int_equal(ts_write_file_atomic(path, "new", 3), TS_OK);
    char *text;
    size_t len;
    assert_int_equal(ts_read_file(target, &text, &len), TS_OK);
    assert_string_equal(text, "partial");
    free(text);
    assert_int_equal(ts_read_file(path, &text, &len), TS_OK);
    assert_string_equal(text, "new");
    free(text);
}

/* Issue 25 items 7 and 14: a marked folder is replaced, a foreign one refused and untouched; a
 * dead writer's staging folder of this host goes, a live one's and other names stay. */
static void owned_folders_only(void **state) {
    const char *dir = *state;
    char path[4200];
    snprintf(path, sizeof path, "%s/samples", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    touch(path, "mine.abc");
    assert_int_equal(ts_fresh_owned_dir(path), TS_EUSAGE);
    assert_true(exists(path, "mine.abc"));
    snprintf(path, sizeof path, "%s/fresh", dir);
    assert_int_equal(ts_fresh_owned_dir(path), TS_OK);
    touch(path, "old.abc");
    assert_int_equal(ts_fresh_owned_dir(path), TS_OK);
    assert_false(exists(path, "old.abc"));
    assert_true(ts_is_owned_dir(path));
    touch(dir, "plainfile");
    snprintf(path, sizeof path, "%s/plainfile", dir);
    assert_int_equal(ts_fresh_owned_dir(path), TS_EUSAGE);
    assert_true(exists(dir, "plainfile"));

    pid_t child = fork();
    if (child == 0) _exit(0);
    assert_true(child > 0);
    waitpid(child, NULL, 0);
    char host[300], tag[64], name[400];
    host_suffix(dir, host, sizeof host);
    snprintf(name, sizeof name, "%s/.staging-%ld%s", dir, (long)child, host);
    assert_int_equal(mkdir(name, 0777), 0);
    touch(name, "train.bin");
    ts_owned_tag(tag, sizeof tag);
    snprintf(name, sizeof name, "%s/.staging-%s", dir, tag);
    assert_int_equal(mkdir(name, 0777), 0);
    snprintf(name, sizeof name, "%s/.staging-%ld", dir, (long)child);
    assert_int_equal(mkdir(name, 0777), 0);
    assert_int_equal(ts_remove_stale_folders(dir, ".staging-"), 1);
    snprintf(name, sizeof name, "%s/.staging-%ld%s", dir, (long)child, host);
    assert_false(ts_is_dir(name));
    snprintf(name, sizeof name, "%s/.staging-%s", dir, tag);
    assert_true(ts_is_dir(name));
    snprintf(name, sizeof name, "%s/.staging-%ld", dir, (long)child);
    assert_true(ts_is_dir(name));
}

/* Issue 25 item 12: a FIFO is refused at once (it used to block until a writer came). */
static void fifos_are_not_read(void **state) {
    char path[4200];
    snprintf(path, sizeof path, "%s/x.abc", (const char *)*state);
    assert_int_equal(mkfifo(path, 0644), 0);
    char *text;
    size_t len;
    assert_int_equal(ts_read_file(path, &text, &len), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "not a regular file"));
}

/* ts_read_json (now in util for the backends' caches): a written document reads back, and a
 * missing or malformed file is NULL with an error naming it. */
static void read_json_round_trip_and_errors(void **state) {
    char path[4200];
    snprintf(path, sizeof path, "%s/doc.json", (const char *)*state);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "format", 7);
    assert_int_equal(ts_write_json_atomic(path, doc), TS_OK);
    cJSON *back = ts_read_json(path);
    assert_non_null(back);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(back, "format")->valueint, 7);
    cJSON_Delete(back);

    assert_int_equal(ts_write_file_atomic(path, "{\"format\": 1, \"classes\": {", 26), TS_OK);
    assert_null(ts_read_json(path));
    assert_non_null(strstr(ts_last_error(), "doc.json: not valid JSON"));
    ts_clear_error();
    snprintf(path, sizeof path, "%s/missing.json", (const char *)*state);
    assert_null(ts_read_json(path));
    assert_non_null(strstr(ts_last_error(), "missing.json: cannot open"));
    ts_clear_error();
}

static void atomic_write_replaces_whole_file(void **state) {
    char path[4200];
    snprintf(path, sizeof path, "%s/a.json", (const char *)*state);
    assert_int_equal(ts_write_file_atomic(path, "first", 5), TS_OK);
    assert_int_equal(ts_write_file_atomic(path, "2nd", 3), TS_OK);
    char *text;
    size_t len;
    assert_int_equal(ts_read_file(path, &text, &len), TS_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(text, "2nd", 3);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stale_temporaries_of_dead_writers_go, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(zombie_writers_count_as_dead, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(other_hosts_temporaries_stay, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(atomic_write_replaces_whole_file, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(users_tmp_named_files_stay, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(atomic_write_never_follows_a_planted_link, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(owned_folders_only, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(fifos_are_not_read, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(read_json_round_trip_and_errors, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
