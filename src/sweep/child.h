/*
 * child.h — one run of a sweep as a child process: `tunescale train` with the run's options,
 * its output appended to RUN/train.log, its progress read from a pipe.
 *
 * A separate process per run keeps runs apart: a driver crash, a leak or an abort in one run
 * is recorded as that run's failure and the sweep goes on; and each run starts from a clean
 * device. The child dies with the sweep (PR_SET_PDEATHSIG), so a killed sweep leaves no run
 * writing behind its back.
 */
#ifndef TS_SWEEP_CHILD_H
#define TS_SWEEP_CHILD_H

#include <sys/types.h>

#include "sweep/plan.h"

typedef struct {
    pid_t pid;
    int progress_fd; /* read end of the progress pipe, -1 once closed */
    char buf[512];
    size_t len;
    /* Latest progress. */
    long step, total_steps;
    double tokens, loss, tokens_per_s;
    int evaluating;
} ts_child;

/* Starts the run. resume: pass --resume (a checkpoint exists). */
ts_status ts_child_start(ts_child *c, const ts_sweep_options *o, const ts_sweep_run *r, int resume);
/* Reads pending progress, waiting at most timeout_ms. Returns 1 while the child runs, 0 once it
 * has exited (*wstatus filled). */
int ts_child_poll(ts_child *c, int timeout_ms, int *wstatus);
/* Asks the child to stop (SIGTERM) and reaps it. */
void ts_child_stop(ts_child *c);

#endif
