/*
 * clblast_params.h — the CLBlast GEMM parameter sets `tunescale tune` may try on OpenCL.
 *
 * CLBlast runs a product through one of two kernels, each compiled from a parameter set:
 * Xgemm (indirect: operands first copied into padded temporaries) and XgemmDirect; which one
 * is decided by the GemmRoutine parameter XGEMM_MIN_INDIRECT_SIZE (products with
 * M*N*K below its cube go direct). A set here names all three, in full, so that
 * CLBlastOverrideParameters never mixes ours with CLBlast's database. The sets are a fixed
 * list (each one forced by the parity test); a device may run only those that fit its
 * work-group size and local memory (ts_clblast_set_fits).
 *
 * This file knows no OpenCL: the names, the list, the checks and the JSON form live here so
 * that the tuning file (gemm_plan.c) and the tests can use them without a device.
 */
#ifndef TS_BACKENDS_CLBLAST_PARAMS_H
#define TS_BACKENDS_CLBLAST_PARAMS_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Parameters per kernel, in CLBlast's database order. */
#define TS_CLB_XGEMM                                                                               \
    16 /* GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN */
#define TS_CLB_DIRECT 10 /* KWID MDIMAD MDIMCD NDIMBD NDIMCD PADA PADB VWMD VWND WGD */

typedef struct {
    size_t xgemm[TS_CLB_XGEMM];
    size_t direct[TS_CLB_DIRECT];
    size_t min_indirect; /* GemmRoutine XGEMM_MIN_INDIRECT_SIZE */
} ts_clblast_set;

extern const char *const ts_clb_xgemm_names[TS_CLB_XGEMM];
extern const char *const ts_clb_direct_names[TS_CLB_DIRECT];

/* The candidate sets; a choice's variant field is 0 for CLBlast's own parameters (its database)
 * or k in 1..TS_CLBLAST_SETS for ts_clblast_sets[k - 1]. */
#define TS_CLBLAST_SETS 6
extern const ts_clblast_set ts_clblast_sets[TS_CLBLAST_SETS];

/* 1 when the set meets CLBlast's divisibility rules for both kernels (the constraints of its
 * own tuner), else 0 with `why` naming the first rule broken. */
int ts_clblast_set_valid(const ts_clblast_set *s, char *why, size_t why_cap);
/* 1 when both kernels' work-groups fit max_wg items and their local memory fits local_bytes. */
int ts_clblast_set_fits(const ts_clblast_set *s, size_t max_wg, size_t local_bytes);

/* {"Xgemm": {"KWG": 32, ...}, "XgemmDirect": {...}, "GemmRoutine": {...}} */
cJSON *ts_clblast_set_json(const ts_clblast_set *s);
/* The index (1..TS_CLBLAST_SETS) of the listed set equal to JSON o, or 0 when o is not a
 * complete set of this list (a set this build never tries is refused, not run). */
int ts_clblast_set_parse(const cJSON *o);

#endif
