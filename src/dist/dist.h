/*
 * dist.h — running as one of several MPI ranks (mpirun -n K tunescale sweep|train ...).
 *
 * Under a launcher (Open MPI's mpirun, or srun with PMIx) tunescale joins MPI_COMM_WORLD; run
 * plainly it is one rank of one and never touches MPI, so a build with MPI costs nothing to the
 * single-machine user. Without MPI in the build (-DTUNESCALE_MPI=OFF) a launch with more than
 * one rank is refused rather than run K times over the same work.
 *
 * Collectives go over host buffers; a rank that cannot take part returns TS_ERR with the MPI
 * error text, and callers stop every rank together (see ts_dist_any_failed).
 */
#ifndef TS_DIST_DIST_H
#define TS_DIST_DIST_H

#include <stddef.h>

#include "util/error.h"

/* 1 when the environment says an MPI launcher started this process. */
int ts_dist_launched(void);
/* Joins MPI when launched (idempotent; a no-op otherwise). MPI_Finalize runs at exit. */
ts_status ts_dist_init(void);
/* This rank, the number of ranks, and the same within this node (0, 1, 0, 1 when not under MPI). */
int ts_dist_rank(void);
int ts_dist_size(void);
int ts_dist_local_rank(void);
int ts_dist_local_size(void);
/* 1 when built with MPI support. */
int ts_dist_built_with_mpi(void);

ts_status ts_dist_barrier(void);
/* A barrier for ranks that may wait long (a sweep's ranks finishing their runs): it sleeps
 * between checks instead of spinning, so a waiting rank leaves its core to the others. */
ts_status ts_dist_barrier_idle(void);
/* In-place sums over all ranks; every rank receives the same bits. */
ts_status ts_dist_sum_float(float *buf, size_t n);
ts_status ts_dist_sum_double(double *buf, size_t n);
/* Root's bytes to every rank. */
ts_status ts_dist_bcast(void *buf, size_t bytes, int root);
/* 1 on every rank when `failed` is non-zero on any rank (and the exchange itself failing counts
 * as failed): lets ranks leave a collective phase together instead of hanging in the next one. */
int ts_dist_any_failed(int failed);

/* Removes the launcher's variables from this process's environment, so that a child it execs
 * (a sweep's `tunescale train`) runs as a plain single process rather than trying to join the
 * job as another rank. */
void ts_dist_forget_launcher_env(void);

#endif
