/*
 * clblast_params.c — CLBlast's GEMM parameter sets: the list, their rules, their JSON form
 * (clblast_params.h).
 */
#include "backends/clblast_params.h"

#include <stdio.h>
#include <string.h>

const char *const ts_clb_xgemm_names[TS_CLB_XGEMM] = {
    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
    "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};
const char *const ts_clb_direct_names[TS_CLB_DIRECT] = {
    "KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND", "WGD"};

static const char *const routine_names[1] = {"XGEMM_MIN_INDIRECT_SIZE"};

enum { GEMMK, KREG, KWG, KWI, MDIMA, MDIMC, MWG, NDIMB, NDIMC, NWG, SA, SB, STRM, STRN, VWM, VWN };
enum { KWID, MDIMAD, MDIMCD, NDIMBD, NDIMCD, PADA, PADB, VWMD, VWND, WGD };

/* From small and safe to large tiles, plus two that pin the routine to one kernel. */
const ts_clblast_set ts_clblast_sets[TS_CLBLAST_SETS] = {
    /* 32x32 tiles of 8x8 items, no vectors: runs anywhere */
    {{0, 1, 16, 2, 8, 8, 32, 8, 8, 32, 0, 0, 0, 0, 1, 1}, {2, 8, 8, 8, 8, 1, 1, 1, 1, 16}, 64},
    /* 64x64 tiles of 16x16 items, float4, both operands in local memory (a GPU shape) */
    {{0, 1, 32, 2, 16, 16, 64, 16, 16, 64, 1, 1, 0, 0, 4, 4}, {2, 8, 8, 8, 8, 1, 1, 2, 2, 32}, 512},
    /* 128x128 tiles, 8x8 outputs per item: large products on large GPUs */
    {{0, 1, 16, 2, 16, 16, 128, 16, 16, 128, 1, 1, 0, 0, 4, 4},
     {8, 16, 16, 16, 16, 1, 1, 4, 4, 64},
     256},
    /* 8x8 items with 8x8 outputs each, no local memory: CPU devices */
    {{0, 1, 32, 8, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 4, 4}, {8, 8, 8, 8, 8, 0, 0, 4, 4, 32}, 128},
    /* always the direct kernel (no padded copies): skinny and batched products */
    {{0, 1, 32, 2, 16, 16, 64, 16, 16, 64, 1, 1, 0, 0, 4, 4},
     {2, 16, 16, 16, 16, 1, 1, 2, 2, 32},
     8192},
    /* always the indirect kernel, strided stores, float2 */
    {{0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 1, 1, 2, 2}, {2, 8, 8, 8, 8, 1, 1, 1, 1, 16}, 1},
};

static int is_pow2_upto(size_t v, size_t max) {
    return v >= 1 && v <= max && (v & (v - 1)) == 0;
}

/* The shared rules of both kernels: a (wg x wg) tile computed by mdimc x ndimc items that load
 * it as mdima- and ndimb-wide rows; k_tile columns of K at a time. */
static const char *tile_rule(size_t m_tile, size_t n_tile, size_t k_tile, size_t kwi, size_t mdima,
                             size_t mdimc, size_t ndimb, size_t ndimc, size_t vwm, size_t vwn) {
    if (!kwi || !mdima || !mdimc || !ndimb || !ndimc) return "a dimension is 0";
    if (!is_pow2_upto(vwm, 8) || !is_pow2_upto(vwn, 8)) return "vector width not 1, 2, 4 or 8";
    if (k_tile % kwi) return "K tile not a multiple of the unroll factor";
    if (m_tile % (mdimc * vwm) || m_tile % (mdima * vwm)) return "M tile not a multiple of items";
    if (n_tile % (ndimc * vwn) || n_tile % (ndimb * vwn)) return "N tile not a multiple of items";
    size_t items = mdimc * ndimc;
    if (items % mdima || items % ndimb) return "loader rows do not divide the work-group";
    if (k_tile % (items / mdima) || k_tile % (items / ndimb))
        return "K tile not a multiple of the loader columns";
    return NULL;
}

int ts_clblast_set_valid(const ts_clblast_set *s, char *why, size_t why_cap) {
    const size_t *x = s->xgemm, *d = s->direct;
    const char *bad = NULL;
    if (x[GEMMK] != 0 || x[KREG] != 1)
        bad = "Xgemm: only GEMMK 0 with KREG 1 is in the list";
    else if (x[SA] > 1 || x[SB] > 1 || x[STRM] > 1 || x[STRN] > 1)
        bad = "Xgemm: SA, SB, STRM and STRN are 0 or 1";
    else if (d[PADA] > 1 || d[PADB] > 1)
        bad = "XgemmDirect: PADA and PADB are 0 or 1";
    else if (!s->min_indirect)
        bad = "GemmRoutine: XGEMM_MIN_INDIRECT_SIZE is 0";
    const char *r = bad ? NULL
                        : tile_rule(x[MWG], x[NWG], x[KWG], x[KWI], x[MDIMA], x[MDIMC], x[NDIMB],
                                    x[NDIMC], x[VWM], x[VWN]);
    if (r) bad = r;
    if (!bad) {
        r = tile_rule(d[WGD], d[WGD], d[WGD], d[KWID], d[MDIMAD], d[MDIMCD], d[NDIMBD], d[NDIMCD],
                      d[VWMD], d[VWND]);
        if (r) {
            snprintf(why, why_cap, "XgemmDirect: %s", r);
            return 0;
        }
        return 1;
    }
    snprintf(why, why_cap, "%s%s", bad == r ? "Xgemm: " : "", bad);
    return 0;
}

int ts_clblast_set_fits(const ts_clblast_set *s, size_t max_wg, size_t local_bytes) {
    const size_t *x = s->xgemm, *d = s->direct;
    size_t local_x = 4 * ((x[SA] ? x[KWG] * x[MWG] : 0) + (x[SB] ? x[KWG] * x[NWG] : 0));
    size_t local_d = 4 * d[WGD] * (2 * d[WGD] + d[PADA] + d[PADB]);
    return x[MDIMC] * x[NDIMC] <= max_wg && d[MDIMCD] * d[NDIMCD] <= max_wg &&
           local_x <= local_bytes && local_d <= local_bytes;
}

static void add_values(cJSON *parent, const char *kernel, const char *const *names, const size_t *v,
                       int n) {
    cJSON *o = cJSON_AddObjectToObject(parent, kernel);
    for (int i = 0; o && i < n; i++)
        cJSON_AddNumberToObject(o, names[i], (double)v[i]);
}

cJSON *ts_clblast_set_json(const ts_clblast_set *s) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    add_values(o, "Xgemm", ts_clb_xgemm_names, s->xgemm, TS_CLB_XGEMM);
    add_values(o, "XgemmDirect", ts_clb_direct_names, s->direct, TS_CLB_DIRECT);
    add_values(o, "GemmRoutine", routine_names, &s->min_indirect, 1);
    return o;
}

/* Reads n named non-negative integers of object o into v; 0 when one is missing or odd. */
static int read_values(const cJSON *o, const char *const *names, size_t *v, int n) {
    if (!cJSON_IsObject(o) || cJSON_GetArraySize(o) != n) return 0;
    for (int i = 0; i < n; i++) {
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, names[i]);
        if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 1e6 ||
            j->valuedouble != (double)(size_t)j->valuedouble)
            return 0;
        v[i] = (size_t)j->valuedouble;
    }
    return 1;
}

int ts_clblast_set_parse(const cJSON *o) {
    ts_clblast_set s;
    if (!read_values(cJSON_GetObjectItemCaseSensitive(o, "Xgemm"), ts_clb_xgemm_names, s.xgemm,
                     TS_CLB_XGEMM) ||
        !read_values(cJSON_GetObjectItemCaseSensitive(o, "XgemmDirect"), ts_clb_direct_names,
                     s.direct, TS_CLB_DIRECT) ||
        !read_values(cJSON_GetObjectItemCaseSensitive(o, "GemmRoutine"), routine_names,
                     &s.min_indirect, 1))
        return 0;
    for (int k = 0; k < TS_CLBLAST_SETS; k++)
        if (!memcmp(&s, &ts_clblast_sets[k], sizeof s)) return k + 1;
    return 0;
}
