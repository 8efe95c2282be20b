/* test_fsutil.c — atomic writes and the clean-up of temporaries left by killed writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

static int exists(const char *dir, const char *name) {
    char path[4200];
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
    char dead[64], live[64];
    snprintf(dead, sizeof dead, "checkpoint.safetensors.tmp.%ld", (long)child);
    snprintf(live, sizeof live, "result.json.tmp.%ld", (long)getpid());
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
    char name[64];
    snprintf(name, sizeof name, "model.safetensors.tmp.%ld", (long)child);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
