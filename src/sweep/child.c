/* child.c — running one sweep run as `tunescale train` in a child process. */
#define _GNU_SOURCE
#include "sweep/child.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dist/dist.h"
#include "util/fsutil.h"

enum { max_args = 64 };

typedef struct {
    char *argv[max_args + 1];
    char store[max_args][4300];
    int n;
} arglist;

static void arg(arglist *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(arglist *a, const char *fmt, ...) {
    if (a->n >= max_args) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->store[a->n], sizeof a->store[a->n], fmt, ap);
    va_end(ap);
    a->argv[a->n] = a->store[a->n];
    a->argv[++a->n] = NULL;
}

/* The `tunescale train` command line of a run; %.17g keeps every double exact. */
static void build_args(arglist *a, const char *exe, const ts_sweep_options *o,
                       const ts_sweep_run *r, int resume) {
    const ts_run_hparams *hp = &r->hp;
    arg(a, "%s", exe);
    arg(a, "train");
    arg(a, "--model"), arg(a, "%s", r->model_arg);
    arg(a, "--data"), arg(a, "%s", o->data_dir);
    arg(a, "--backend"), arg(a, "%s", r->backend);
    arg(a, "--device"), arg(a, "%d", r->device);
    arg(a, "--out"), arg(a, "%s", r->dir);
    arg(a, "--seed"), arg(a, "%llu", (unsigned long long)hp->seed);
    arg(a, "--batch"), arg(a, "%d", hp->batch);
    arg(a, "--seq-len"), arg(a, "%d", hp->seq_len);
    arg(a, "--stride"), arg(a, "%d", hp->stride);
    arg(a, "--lr"), arg(a, "%.17g", hp->lr);
    if (hp->steps) arg(a, "--steps"), arg(a, "%ld", hp->steps);
    if (hp->tokens > 0) arg(a, "--tokens"), arg(a, "%.17g", hp->tokens);
    if (hp->epochs > 0) arg(a, "--epochs"), arg(a, "%.17g", hp->epochs);
    if (hp->warmup >= 0) arg(a, "--warmup"), arg(a, "%ld", hp->warmup);
    if (hp->weight_decay >= 0) arg(a, "--weight-decay"), arg(a, "%.17g", hp->weight_decay);
    if (hp->clip > 0) arg(a, "--clip"), arg(a, "%.17g", hp->clip);
    if (hp->dropout >= 0) arg(a, "--dropout"), arg(a, "%.17g", hp->dropout);
    if (hp->precision) arg(a, "--precision"), arg(a, "%s", ts_precision_name(hp->precision));
    if (o->threads) arg(a, "--threads"), arg(a, "%d", o->threads);
    if (o->mem_limit) arg(a, "--mem-limit"), arg(a, "%zu", o->mem_limit);
    if (o->checkpoint_every) arg(a, "--checkpoint-every"), arg(a, "%ld", o->checkpoint_every);
    if (resume) arg(a, "--resume");
}

ts_status ts_child_start(ts_child *c, const ts_sweep_options *o, const ts_sweep_run *r,
                         int resume) {
    memset(c, 0, sizeof *c);
    c->progress_fd = -1;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return ts_set_error("cannot find the tunescale binary (/proc/self/exe)");
    exe[n] = 0;
    static arglist a; /* large: kept off the stack */
    memset(&a, 0, sizeof a);
    build_args(&a, exe, o, r, resume);

    if (ts_mkdir_p(r->dir) != TS_OK) return TS_ERR;
    char log[4300];
    snprintf(log, sizeof log, "%s/train.log", r->dir);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return ts_set_error("%s: %s", log, strerror(errno));
    /* The log starts with the exact command, so any run can be repeated by hand. */
    dprintf(log_fd, "$");
    for (int i = 0; i < a.n; i++)
        dprintf(log_fd, " %s", a.argv[i]);
    dprintf(log_fd, "\n");

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        close(log_fd);
        return ts_set_error("cannot create a pipe: %s", strerror(errno));
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(log_fd), close(fds[0]), close(fds[1]);
        return ts_set_error("cannot start a run: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* Die with the sweep; if it is already gone, do not start at all. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(137);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        int wfd = dup(fds[1]); /* without O_CLOEXEC: the train process inherits it */
        char env[32];
        snprintf(env, sizeof env, "%d", wfd);
        setenv("TUNESCALE_PROGRESS_FD", env, 1);
        setenv("TUNESCALE_PROGRESS", "0", 1); /* no terminal bar inside the log */
        ts_dist_forget_launcher_env(); /* a run is one process, not another rank of the job */
        execv(a.argv[0], a.argv);
        dprintf(2, "tunescale: cannot run %s: %s\n", a.argv[0], strerror(errno));
        _exit(127);
    }
    close(log_fd);
    close(fds[1]);
    c->pid = pid;
    c->progress_fd = fds[0];
    c->step = resume ? -1 : 0;
    return TS_OK;
}

static void parse_line(ts_child *c, const char *line) {
    long step, total;
    double tokens, loss, rate;
    if (sscanf(line, "step %ld %ld %lf %lf %lf", &step, &total, &tokens, &loss, &rate) == 5) {
        c->step = step;
        c->total_steps = total;
        c->tokens = tokens;
        c->loss = loss;
        c->tokens_per_s = rate;
    } else if (!strncmp(line, "phase eval", 10)) {
        c->evaluating = 1;
    }
}

static void drain(ts_child *c) {
    for (;;) {
        ssize_t n = read(c->progress_fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            close(c->progress_fd);
            c->progress_fd = -1;
            return;
        }
        c->len += (size_t)n;
        c->buf[c->len] = 0;
        char *start = c->buf, *nl;
        while ((nl = strchr(start, '\n'))) {
            *nl = 0;
            parse_line(c, start);
            start = nl + 1;
        }
        c->len = strlen(start);
        memmove(c->buf, start, c->len + 1);
        if (c->len >= sizeof c->buf - 1) c->len = 0; /* a line too long to be ours */
        return;
    }
}

int ts_child_poll(ts_child *c, int timeout_ms, int *wstatus) {
    if (c->progress_fd >= 0) {
        struct pollfd p = {c->progress_fd, POLLIN, 0};
        int n = poll(&p, 1, timeout_ms);
        if (n > 0) drain(c);
    } else {
        usleep((useconds_t)timeout_ms * 1000);
    }
    pid_t w = waitpid(c->pid, wstatus, WNOHANG);
    if (w == c->pid) {
        while (c->progress_fd >= 0)
            drain(c);
        return 0;
    }
    return 1;
}

void ts_child_stop(ts_child *c) {
    if (c->pid > 0) {
        kill(c->pid, SIGTERM);
        int ws;
        while (waitpid(c->pid, &ws, 0) < 0 && errno == EINTR) {
        }
        c->pid = 0;
    }
    if (c->progress_fd >= 0) close(c->progress_fd);
    c->progress_fd = -1;
}
