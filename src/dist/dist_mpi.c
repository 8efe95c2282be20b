/* dist_mpi.c — ts_dist over MPI (built when TUNESCALE_MPI is on), or its one-rank stand-in. */
#define _GNU_SOURCE
#include "dist/dist.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef TS_HAVE_MPI
#include <mpi.h>
#endif

extern char **environ;

/* The variables by which Open MPI (and PMIx/PMI launchers, srun included) tell a process it is
 * one rank of a job. */
static const char *const launcher_prefixes[] = {"OMPI_", "PMIX_", "PMI_", "OPAL_", NULL};

int ts_dist_launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

void ts_dist_forget_launcher_env(void) {
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; e && *e; e++) {
            for (int p = 0; launcher_prefixes[p]; p++) {
                size_t n = strlen(launcher_prefixes[p]);
                if (strncmp(*e, launcher_prefixes[p], n)) continue;
                const char *eq = strchr(*e, '=');
                if (!eq) continue;
                char name[256];
                size_t len = (size_t)(eq - *e);
                if (len >= sizeof name) continue;
                memcpy(name, *e, len);
                name[len] = 0;
                unsetenv(name); /* changes environ: start the scan again */
                again = 1;
                break;
            }
            if (again) break;
        }
    }
}

#ifdef TS_HAVE_MPI

static int joined, world_rank, world_size = 1, node_rank, node_size = 1;

static ts_status mpi_error(const char *what, int code) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "?");
    return ts_set_error("MPI rank %d: %s failed: %s", world_rank, what, text);
}

static void finalize_at_exit(void) {
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
}

int ts_dist_built_with_mpi(void) {
    return 1;
}

ts_status ts_dist_init(void) {
    if (joined || !ts_dist_launched()) return TS_OK;
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) return mpi_error("MPI_Init", rc);
    joined = 1;
    atexit(finalize_at_exit);
    /* Errors come back as codes, so a failing rank says what failed instead of aborting. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    MPI_Comm node;
    rc =
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &node);
    if (rc != MPI_SUCCESS) return mpi_error("MPI_Comm_split_type", rc);
    MPI_Comm_rank(node, &node_rank);
    MPI_Comm_size(node, &node_size);
    MPI_Comm_free(&node);
    return TS_OK;
}

int ts_dist_rank(void) {
    return world_rank;
}
int ts_dist_size(void) {
    return world_size;
}
int ts_dist_local_rank(void) {
    return node_rank;
}
int ts_dist_local_size(void) {
    return node_size;
}

ts_status ts_dist_barrier(void) {
    if (!joined) return TS_OK;
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? TS_OK : mpi_error("MPI_Barrier", rc);
}

ts_status ts_dist_barrier_idle(void) {
    if (!joined || world_size == 1) return TS_OK;
    MPI_Request req;
    int rc = MPI_Ibarrier(MPI_COMM_WORLD, &req), done = 0;
    while (rc == MPI_SUCCESS && !done) {
        rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (rc == MPI_SUCCESS && !done) usleep(20000);
    }
    return rc == MPI_SUCCESS ? TS_OK : mpi_error("MPI_Ibarrier", rc);
}

/* MPI counts are ints: long buffers go in slices. */
static ts_status sum(void *buf, size_t n, MPI_Datatype type, size_t elem) {
    if (!joined || world_size == 1) return TS_OK;
    const size_t slice = (size_t)1 << 28;
    for (size_t at = 0; at < n; at += slice) {
        int count = (int)(n - at < slice ? n - at : slice);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + at * elem, count, type, MPI_SUM,
                               MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_error("MPI_Allreduce", rc);
    }
    return TS_OK;
}

ts_status ts_dist_sum_float(float *buf, size_t n) {
    return sum(buf, n, MPI_FLOAT, sizeof *buf);
}
ts_status ts_dist_sum_double(double *buf, size_t n) {
    return sum(buf, n, MPI_DOUBLE, sizeof *buf);
}

ts_status ts_dist_bcast(void *buf, size_t bytes, int root) {
    if (!joined || world_size == 1) return TS_OK;
    const size_t slice = (size_t)1 << 30;
    for (size_t at = 0; at < bytes; at += slice) {
        int count = (int)(bytes - at < slice ? bytes - at : slice);
        int rc = MPI_Bcast((char *)buf + at, count, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_error("MPI_Bcast", rc);
    }
    return TS_OK;
}

int ts_dist_any_failed(int failed) {
    if (!joined || world_size == 1) return failed != 0;
    int any = failed != 0;
    if (MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return 1;
    return any;
}

#else /* one rank of one */

static int launcher_size(void) {
    const char *s = getenv("OMPI_COMM_WORLD_SIZE");
    if (!s) s = getenv("PMI_SIZE");
    return s ? atoi(s) : 1;
}

int ts_dist_built_with_mpi(void) {
    return 0;
}

ts_status ts_dist_init(void) {
    if (ts_dist_launched() && launcher_size() > 1)
        return ts_set_error_status(TS_EUSAGE,
                                   "started as one of %d MPI ranks, but this tunescale was built "
                                   "without MPI (install libopenmpi-dev and rebuild with "
                                   "-DTUNESCALE_MPI=ON)",
                                   launcher_size());
    return TS_OK;
}
int ts_dist_rank(void) {
    return 0;
}
int ts_dist_size(void) {
    return 1;
}
int ts_dist_local_rank(void) {
    return 0;
}
int ts_dist_local_size(void) {
    return 1;
}
ts_status ts_dist_barrier(void) {
    return TS_OK;
}
ts_status ts_dist_barrier_idle(void) {
    return TS_OK;
}
ts_status ts_dist_sum_float(float *buf, size_t n) {
    (void)buf, (void)n;
    return TS_OK;
}
ts_status ts_dist_sum_double(double *buf, size_t n) {
    (void)buf, (void)n;
    return TS_OK;
}
ts_status ts_dist_bcast(void *buf, size_t bytes, int root) {
    (void)buf, (void)bytes, (void)root;
    return TS_OK;
}
int ts_dist_any_failed(int failed) {
    return failed != 0;
}

#endif
