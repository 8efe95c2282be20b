/*
 * gemm_tune.c — model shapes, timing under a forced choice, and the tuner (gemm_tune.h).
 */
#include "tune/gemm_tune.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/clblast_params.h"
#include "model/config.h"
#include "util/progress.h"

/* The presets whose products are tuned, at the batch their headline runs use. */
static const struct {
    const char *model;
    int batch;
} tuned_models[] = {{"transformer-1M", 64},
                    {"transformer-20M", 64},
                    {"transformer-100M", 32},
                    {"lstm-1M", 64},
                    {"lstm-20M", 64}};

static void add(ts_gemm_shape *out, int *n, int cap, const char *model, int B, const char *what,
                int ta, int tb, int M, int N, int K, int batch, float beta, int rows) {
    for (int i = 0; i < *n; i++) {
        const ts_gemm_shape *s = &out[i];
        if (s->ta == ta && s->tb == tb && s->M == M && s->N == N && s->K == K && s->batch == batch)
            return;
    }
    if (*n >= cap) return;
    ts_gemm_shape *s = &out[(*n)++];
    *s = (ts_gemm_shape){ta, tb, M, N, K, batch, beta, rows, ""};
    snprintf(s->what, sizeof s->what, "%s B%d %s", model, B, what);
}

int ts_gemm_model_shapes(ts_gemm_shape *out, int cap) {
    int n = 0;
    for (size_t i = 0; i < sizeof tuned_models / sizeof tuned_models[0]; i++) {
        ts_model_config c;
        if (ts_model_config_lookup(tuned_models[i].model, &c) != TS_OK) {
            ts_clear_error();
            continue;
        }
        const char *m = tuned_models[i].model;
        int B = tuned_models[i].batch, T = ts_model_default_seq_len(&c), R = B * T;
        int C = c.d_model, V = c.vocab_size;
        if (c.family == TS_TRANSFORMER) {
            int F = c.d_ff, HS = C / c.n_heads;
            /* linear layers: forward (nt), input gradient (nn), weight gradient (tn, +=) */
            const int outs[4][2] = {{3 * C, C}, {C, C}, {F, C}, {C, F}};
            static const char *names[4] = {"qkv", "proj", "fc", "fc2"};
            for (int l = 0; l < 4; l++) {
                char w[24];
                int o = outs[l][0], in = outs[l][1];
                snprintf(w, sizeof w, "%s fwd", names[l]);
                add(out, &n, cap, m, B, w, 0, 1, R, o, in, 1, 0.0f, 0);
                snprintf(w, sizeof w, "%s dx", names[l]);
                add(out, &n, cap, m, B, w, 0, 0, R, in, o, 1, 0.0f, 0);
                snprintf(w, sizeof w, "%s dw", names[l]);
                add(out, &n, cap, m, B, w, 1, 0, o, in, R, 1, 1.0f, 2);
            }
            add(out, &n, cap, m, B, "head fwd", 0, 1, R, V, C, 1, 0.0f, 0);
            add(out, &n, cap, m, B, "head dw", 1, 0, V, C, R, 1, 1.0f, 2);
            /* attention scores and values, one product per (sequence, head) */
            add(out, &n, cap, m, B, "att qk", 0, 1, T, T, HS, B * c.n_heads, 0.0f, 3);
            add(out, &n, cap, m, B, "att av", 0, 0, T, HS, T, B * c.n_heads, 0.0f, 3);
        } else {
            int H = C;
            add(out, &n, cap, m, B, "input fwd", 0, 1, R, 4 * H, H, 1, 0.0f, 0);
            add(out, &n, cap, m, B, "recurrent", 0, 1, B, 4 * H, H, 1, 1.0f, -1);
            add(out, &n, cap, m, B, "recurrent dh", 0, 0, B, H, 4 * H, 1, 0.0f, -1);
            add(out, &n, cap, m, B, "w_hh dw", 1, 0, 4 * H, H, (T - 1) * B, 1, 1.0f, 2);
            add(out, &n, cap, m, B, "head fwd", 0, 1, R, V, H, 1, 0.0f, 0);
        }
    }
    return n;
}

double ts_gemm_flops(const ts_gemm_shape *s) {
    return 2.0 * s->M * (double)s->N * s->K * s->batch;
}

void ts_gemm_choice_name(const ts_gemm_choice *c, char *out, size_t cap) {
    if (c->kernel != TS_GEMM_TILED && c->variant > 0)
        snprintf(out, cap, "builtin v%d", c->variant);
    else if (c->kernel != TS_GEMM_TILED)
        snprintf(out, cap, "builtin");
    else if (c->split_k > 1)
        snprintf(out, cap, "tiled t%d s%d", c->tile, c->split_k);
    else
        snprintf(out, cap, "tiled t%d", c->tile);
}

/* A shape's operands, dense (ld = row length, stride = matrix size). */
typedef struct {
    ts_buffer *a, *b, *c;
    int lda, ldb;
    long sa, sb, sc;
} operands;

static void operands_free(ts_backend *be, operands *o) {
    ts_buffer_free(be, o->a);
    ts_buffer_free(be, o->b);
    ts_buffer_free(be, o->c);
    memset(o, 0, sizeof *o);
}

static ts_status operands_alloc(ts_backend *be, const ts_gemm_shape *s, operands *o) {
    memset(o, 0, sizeof *o);
    o->lda = s->ta ? s->M : s->K;
    o->ldb = s->tb ? s->K : s->N;
    o->sa = (long)s->M * s->K;
    o->sb = (long)s->K * s->N;
    o->sc = (long)s->M * s->N;
    size_t b = (size_t)s->batch;
    ts_status st = ts_buffer_alloc(be, (size_t)o->sa * b * 4, &o->a);
    if (st == TS_OK) st = ts_buffer_alloc(be, (size_t)o->sb * b * 4, &o->b);
    if (st == TS_OK) st = ts_buffer_alloc(be, (size_t)o->sc * b * 4, &o->c);
    if (st == TS_OK) {
        be->iface->fill(be, (ts_tensor){o->a, 0}, 0.5f, (size_t)o->sa * b);
        be->iface->fill(be, (ts_tensor){o->b, 0}, 0.25f, (size_t)o->sb * b);
        st = ts_backend_sync(be);
    }
    if (st != TS_OK) operands_free(be, o);
    return st;
}

static void run(ts_backend *be, const ts_gemm_shape *s, const operands *o) {
    be->iface->gemm(be, s->ta, s->tb, s->M, s->N, s->K, 1.0f, (ts_tensor){o->a, 0}, o->lda, o->sa,
                    (ts_tensor){o->b, 0}, o->ldb, o->sb, s->beta, (ts_tensor){o->c, 0}, s->N, o->sc,
                    s->batch);
}

/* 1 when every probed element of C holds `want` (within float rounding); else records why. */
static int probe_ok(ts_backend *be, const ts_gemm_shape *s, const operands *o,
                    const ts_gemm_choice *c, float want, ts_status *st) {
    size_t n = (size_t)o->sc * (size_t)s->batch;
    size_t at[3] = {0, n / 2, n - 1};
    for (int i = 0; i < 3 && *st == TS_OK; i++) {
        float got = 0;
        *st = be->iface->download(be, &got, (ts_tensor){o->c, at[i]}, 4);
        if (*st == TS_OK && !(fabsf(got - want) <= 1e-3f * want)) {
            char name[32] = "the chosen kernel";
            if (c) ts_gemm_choice_name(c, name, sizeof name);
            ts_set_error("gemm %s on %dx%dx%d gave %g, expected %g: wrong result", name, s->M, s->N,
                         s->K, (double)got, (double)want);
            return 0;
        }
    }
    return *st == TS_OK;
}

/* Seconds per product, the plan forced to c; every element of A B is 0.125 K, so C is checked
 * (with beta != 0 it starts at 0 and sums 1 + reps products): a kernel that computes garbage
 * cannot win. -1 with an error recorded on failure; -2 when c names CLBlast parameters that
 * failed or computed a wrong result (the tuner's trial: the backend keeps no error, and its
 * previous parameters are back). */
static double time_on(ts_backend *be, const ts_gemm_shape *s, const operands *o,
                      const ts_gemm_choice *c, int reps) {
    ts_gemm_plan *plan = c ? ts_gemm_plan_of(be) : NULL;
    int was = plan ? plan->forced : 0, trial = c && c->kernel == TS_GEMM_BUILTIN && c->variant > 0;
    ts_gemm_choice keep = plan ? plan->force : (ts_gemm_choice){0, 0, 1, 0};
    if (plan) {
        plan->forced = 1;
        plan->force = *c;
        plan->trial = trial;
        plan->trial_failed = 0;
    }
    ts_status st = TS_OK;
    if (s->beta != 0.0f)
        be->iface->fill(be, (ts_tensor){o->c, 0}, 0.0f, (size_t)o->sc * (size_t)s->batch);
    run(be, s, o); /* warm-up: builds the kernel */
    if (plan && plan->trial_failed) reps = 0;
    st = ts_backend_sync(be);
    /* the reps in up to three timed batches, the fastest batch counting: on a shared machine
     * a burst of other work slows one batch, not the result */
    int batches = reps < 3 ? reps : 3, left = reps;
    double dt = 0;
    for (int b = 0; b < batches && st == TS_OK; b++) {
        int n = left / (batches - b);
        left -= n;
        double t0 = ts_now();
        for (int r = 0; r < n && st == TS_OK; r++)
            run(be, s, o);
        if (st == TS_OK) st = ts_backend_sync(be);
        double per = (ts_now() - t0) / n;
        if (b == 0 || per < dt) dt = per;
    }
    int failed = plan && plan->trial_failed;
    float want = 0.125f * (float)s->K * (s->beta != 0.0f ? (float)(1 + reps) : 1.0f);
    int right = st == TS_OK && !failed && probe_ok(be, s, o, c, want, &st);
    if (plan) {
        if (trial) ts_gemm_trial_end(be);
        plan->forced = was;
        plan->force = keep;
        plan->trial = 0;
        if (failed) ts_set_error("%s", plan->trial_why);
    }
    if (trial && st == TS_OK && !right) return -2;
    if (st != TS_OK || !right) return -1;
    return dt;
}

double ts_gemm_time(ts_backend *be, const ts_gemm_shape *s, const ts_gemm_choice *c, int reps) {
    operands o;
    if (operands_alloc(be, s, &o) != TS_OK) return -1;
    double t = time_on(be, s, &o, c, reps);
    operands_free(be, &o);
    return t;
}

/* ---- the search ------------------------------------------------------------------------ */

#define MAX_SHAPES     64
#define SHAPES_PER_CLS 2 /* with a budget of 2 minutes or more; else 1 */
#define MAX_CANDS      (TS_GEMM_VARIANTS_MAX + TS_GEMM_TILES * TS_GEMM_SPLITS)

/* The built-in kernel in its default form first (CLBlast cannot go back to its own parameters
 * once a set was applied), then each variant the device runs (CLBlast sets, Vulkan's register
 * blocks), then our tiles. */
static int candidates(ts_gemm_class cls, unsigned variants, ts_gemm_choice *out) {
    int n = 0;
    out[n++] = (ts_gemm_choice){TS_GEMM_BUILTIN, 0, 1, 0};
    for (int k = 1; k < TS_GEMM_VARIANTS_MAX; k++)
        if (variants >> (k - 1) & 1) out[n++] = (ts_gemm_choice){TS_GEMM_BUILTIN, 0, 1, k};
    int splits = cls == TS_GEMM_DEEPK || cls == TS_GEMM_SKINNY ? TS_GEMM_SPLITS : 1;
    for (int t = 0; t < TS_GEMM_TILES; t++)
        for (int s = 0; s < splits; s++)
            out[n++] = (ts_gemm_choice){TS_GEMM_TILED, t, ts_gemm_split_choices[s], 0};
    return n;
}

/* What a trial builds: the built-in kernel with its own parameters, with a CLBlast set, or one
 * of our tiles (a first trial of each compiles; the next of its kind costs about the same). */
static int family(const ts_gemm_choice *c) {
    return c->kernel == TS_GEMM_TILED ? 2 : c->variant > 0 ? 1 : 0;
}

/* The candidate with the least total time among those timed on all `need` shapes, leaving out
 * family `skip` (-1: none); -1 when none was. */
static int fastest(const ts_gemm_choice *cand, int n, const double *total, const int *timed,
                   int need, int skip) {
    int best = -1;
    for (int k = 0; k < n; k++) {
        if (need == 0 || timed[k] < need) continue;
        if (family(&cand[k]) == skip) continue;
        if (best < 0 || total[k] < total[best]) best = k;
    }
    return best;
}

/* What the next trial of family fam in class c will take: as long as the last of its family in
 * that class (a new CLBlast set or tile builds again, as the last one did), else the longest of
 * its family in another class (a first trial there builds the kernel for this class's
 * transposes), else the probe (which built the built-in kernel). */
static double trial_guess(double last[][3], int c, int fam, double probe_wall) {
    if (last[c][fam] > 0) return last[c][fam];
    double g = 0;
    for (int o = 0; o < TS_GEMM_CLASSES; o++)
        if (last[o][fam] > g) g = last[o][fam];
    return g > 0 ? g : probe_wall;
}

static int same_choice(const ts_gemm_choice *a, const ts_gemm_choice *b) {
    if (a->kernel != b->kernel) return 0;
    if (a->kernel == TS_GEMM_BUILTIN) return a->variant == b->variant;
    return a->tile == b->tile && a->split_k == b->split_k;
}

/* Halves the shape's token dimension, else its largest other one, as long as the product stays
 * in its class; 0 when nothing can be halved. */
static int shrink(ts_gemm_shape *s) {
    ts_gemm_class cls = ts_gemm_classify(s->M, s->N, s->K, s->batch);
    int *dims[4] = {&s->M, &s->N, &s->K, &s->batch};
    int order[4] = {s->rows, -1, -1, -1}, n = s->rows >= 0 ? 1 : 0;
    /* then the others, largest first */
    for (int pass = 0; pass < 4; pass++) {
        int best = -1;
        for (int d = 0; d < 4; d++) {
            int used = 0;
            for (int i = 0; i < n; i++)
                used |= order[i] == d;
            if (!used && (best < 0 || *dims[d] > *dims[best])) best = d;
        }
        if (best >= 0) order[n++] = best;
    }
    for (int i = 0; i < n; i++) {
        int *d = dims[order[i]];
        if (*d < 2) continue;
        int keep = *d;
        *d /= 2;
        if (*d >= 8 && ts_gemm_classify(s->M, s->N, s->K, s->batch) == cls) return 1;
        *d = keep;
    }
    return 0;
}

static cJSON *shape_json(const ts_gemm_shape *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "what", s->what);
    cJSON_AddNumberToObject(o, "ta", s->ta);
    cJSON_AddNumberToObject(o, "tb", s->tb);
    cJSON_AddNumberToObject(o, "M", s->M);
    cJSON_AddNumberToObject(o, "N", s->N);
    cJSON_AddNumberToObject(o, "K", s->K);
    cJSON_AddNumberToObject(o, "batch", s->batch);
    return o;
}

ts_status ts_gemm_tune(ts_backend *be, ts_gemm_plan *plan, const ts_gemm_tune_options *opt,
                       double *gflops, cJSON *report) {
    /* the budget counts from the command's start: backend creation, the probe and every
     * kernel build are inside it */
    double start = opt->start > 0 ? opt->start : ts_now(), budget = opt->budget_s;
    ts_gemm_shape all[MAX_SHAPES], pick[TS_GEMM_CLASSES][SHAPES_PER_CLS];
    int n_all = ts_gemm_model_shapes(all, MAX_SHAPES), n_pick[TS_GEMM_CLASSES] = {0};
    /* per class, the products with the most work (they dominate a step) */
    int per_cls = budget >= 120 ? SHAPES_PER_CLS : 1;
    for (int c = 0; c < TS_GEMM_CLASSES; c++)
        for (int k = 0; k < per_cls; k++) {
            int best = -1;
            for (int i = 0; i < n_all; i++) {
                if ((int)ts_gemm_classify(all[i].M, all[i].N, all[i].K, all[i].batch) != c)
                    continue;
                int taken = 0;
                for (int j = 0; j < n_pick[c]; j++)
                    taken |= !strcmp(pick[c][j].what, all[i].what);
                if (!taken && (best < 0 || ts_gemm_flops(&all[i]) > ts_gemm_flops(&all[best])))
                    best = i;
            }
            if (best >= 0) pick[c][n_pick[c]++] = all[best];
        }
    ts_gemm_choice cand[TS_GEMM_CLASSES][MAX_CANDS];
    int n_cand[TS_GEMM_CLASSES], trials = 0, builtin_trials = 0;
    for (int c = 0; c < TS_GEMM_CLASSES; c++) {
        n_cand[c] = candidates((ts_gemm_class)c, plan->variants, cand[c]);
        trials += n_cand[c] * n_pick[c];
        for (int k = 0; k < n_cand[c]; k++)
            builtin_trials += family(&cand[c][k]) != 2 ? n_pick[c] : 0;
    }
    /* Each trial's share of the budget (a fifth kept back for kernel builds). With built-in
     * variants, the shapes are sized so that the built-in trials (timed first) take half the
     * budget, and our tiled kernel gets what is left: on lavapipe it is several times slower
     * than gemm_direct4 and never won there, and on GPUs no shape is scaled down anyway. */
    /* Where the default form and variants mix freely (Vulkan's blocks, unlike CLBlast's sets),
     * the built-in candidates are timed in two rounds, each keeping its faster one: a burst of
     * other work on the machine then spoils one round, not the choice. */
    int rounds = plan->variants && !plan->variants_exclusive ? 2 : 1;
    double per_trial = 0.8 * budget / (trials > 0 ? trials : 1);
    if (plan->variants && builtin_trials > 0) per_trial = 0.5 * budget / (rounds * builtin_trials);
    trials += (rounds - 1) * builtin_trials;
    /* the device's rate on a small product, so that shapes are scaled down before the first
     * allocation (timing a full-size product on a CPU device can take minutes); its wall time,
     * a build of the built-in kernel included, is the first guess of what a trial costs */
    ts_gemm_shape probe = {0, 1, 256, 256, 256, 1, 0.0f, 0, "probe"};
    double probe_start = ts_now();
    double rate = ts_gemm_time(be, &probe, &plan->untuned[TS_GEMM_REGULAR], 2);
    double probe_wall = ts_now() - probe_start;
    if (rate < 0) return TS_ERR;
    rate = ts_gemm_flops(&probe) / (rate > 1e-9 ? rate : 1e-9);
    cJSON *jclasses = cJSON_AddObjectToObject(report, "classes");
    cJSON *jtrials = cJSON_AddArrayToObject(report, "trials");
    int done = 0, out_of_time = 0;
    /* Scale every shape down to a trial's share and allocate its operands first; then time
     * candidate k of every class before candidate k+1 of any, so that a budget that runs out
     * leaves each class compared over the same first candidates. */
    operands ops[TS_GEMM_CLASSES][SHAPES_PER_CLS];
    int reps[TS_GEMM_CLASSES][SHAPES_PER_CLS];
    memset(ops, 0, sizeof ops);
    ts_status st = TS_OK;
    for (int c = 0; c < TS_GEMM_CLASSES && st == TS_OK; c++)
        for (int si = 0; si < n_pick[c] && st == TS_OK; si++) {
            ts_gemm_shape *s = &pick[c][si];
            while (ts_gemm_flops(s) / rate > per_trial / 6 && shrink(s)) {
            }
            for (;;) {
                st = operands_alloc(be, s, &ops[c][si]);
                if (st == TS_OK || be->error != TS_OK || !shrink(s)) break;
                ts_clear_error(); /* too big for this device: try it smaller */
            }
            double t = ts_gemm_flops(s) / rate;
            int r = t > 0 ? (int)(per_trial / 2 / t) : 20;
            reps[c][si] = r < 1 ? 1 : r > 20 ? 20 : r;
        }
    /* the order of candidates: the built-in ones (the same count in every class) once per
     * round, then the tiled ones */
    int order[2 * MAX_CANDS], n_order = 0, n_builtin = 0;
    while (n_builtin < n_cand[0] && family(&cand[0][n_builtin]) != 2)
        n_builtin++;
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < n_builtin; k++)
            order[n_order++] = k;
    for (int k = n_builtin; k < MAX_CANDS; k++)
        order[n_order++] = k;
    double best[TS_GEMM_CLASSES][MAX_CANDS][SHAPES_PER_CLS]; /* seconds; 0 not yet timed */
    int failed[TS_GEMM_CLASSES][MAX_CANDS] = {{0}};
    int tried[TS_GEMM_CLASSES][MAX_CANDS] = {{0}}; /* trials started, failed ones too */
    double last[TS_GEMM_CLASSES][3] = {{0}};       /* wall seconds of the last trial per family */
    memset(best, 0, sizeof best);
    for (int i = 0; i < n_order && st == TS_OK; i++)
        for (int c = 0, k = order[i]; c < TS_GEMM_CLASSES && st == TS_OK; c++)
            for (int si = 0; k < n_cand[c] && si < n_pick[c]; si++) {
                /* a trial that would end past the budget (its kernel build included) is not
                 * started; only the very first one always runs, so that a tune measures
                 * something (it bounds the overshoot) */
                int fam = family(&cand[c][k]);
                double guess = trial_guess(last, c, fam, probe_wall);
                if (done > 0 && ts_now() - start + guess > budget) {
                    out_of_time = 1;
                    break;
                }
                const ts_gemm_shape *s = &pick[c][si];
                double t_trial = ts_now();
                double dt = time_on(be, s, &ops[c][si], &cand[c][k], reps[c][si]);
                last[c][fam] = ts_now() - t_trial;
                if (dt == -1) {
                    st = TS_ERR;
                    break;
                }
                done++;
                tried[c][k]++;
                char name[32];
                ts_gemm_choice_name(&cand[c][k], name, sizeof name);
                cJSON *jt = shape_json(s);
                cJSON_AddStringToObject(jt, "class", ts_gemm_class_name((ts_gemm_class)c));
                cJSON_AddStringToObject(jt, "kernel", name);
                cJSON_AddItemToArray(jtrials, jt);
                if (dt < 0) {
                    /* CLBlast parameters that fail here: never a winner, the search goes on */
                    failed[c][k] = 1;
                    cJSON_AddStringToObject(jt, "failed", ts_last_error());
                    if (opt->progress)
                        fprintf(stderr, "tune: [%d/%d] %s: %s failed, skipped: %s\n", done, trials,
                                ts_gemm_class_name((ts_gemm_class)c), name, ts_last_error());
                    ts_clear_error();
                    continue;
                }
                if (best[c][k][si] == 0 || dt < best[c][k][si]) best[c][k][si] = dt;
                cJSON_AddNumberToObject(jt, "gflops", ts_gemm_flops(s) / dt / 1e9);
                if (opt->progress) {
                    double el = ts_now() - start;
                    double eta = el / done * (trials - done);
                    if (el + eta > budget) eta = budget - el > 0 ? budget - el : 0;
                    fprintf(stderr,
                            "tune: [%d/%d] %s %c%c %dx%dx%d%s: %s %.2f GFLOP/s (eta %.0f s)\n",
                            done, trials, ts_gemm_class_name((ts_gemm_class)c), s->ta ? 't' : 'n',
                            s->tb ? 't' : 'n', s->M, s->N, s->K, s->batch > 1 ? " batched" : "",
                            name, ts_gemm_flops(s) / dt / 1e9, eta);
                }
            }
    for (int c = 0; c < TS_GEMM_CLASSES; c++)
        for (int si = 0; si < n_pick[c]; si++)
            operands_free(be, &ops[c][si]);
    if (st != TS_OK) return st;
    /* per candidate: its time summed over the class's shapes, and on how many it was timed */
    double total[TS_GEMM_CLASSES][MAX_CANDS] = {{0}};
    int timed[TS_GEMM_CLASSES][MAX_CANDS] = {{0}};
    for (int c = 0; c < TS_GEMM_CLASSES; c++)
        for (int k = 0; k < n_cand[c]; k++)
            for (int si = 0; si < n_pick[c] && !failed[c][k]; si++)
                if (best[c][k][si] > 0) {
                    total[c][k] += best[c][k][si];
                    timed[c][k]++;
                }
    /* CLBlast's own parameters cannot come back once a set was applied (opencl_gemm.c), so a
     * plan runs CLBlast either with its own parameters or with sets: of the best plan without
     * sets and the best without CLBlast's own, the one faster over the classes (each class's
     * time relative to its baseline) wins */
    int win[TS_GEMM_CLASSES], alt[TS_GEMM_CLASSES];
    double score[2] = {0, 0};
    for (int c = 0; c < TS_GEMM_CLASSES; c++) {
        win[c] = fastest(cand[c], n_cand[c], total[c], timed[c], n_pick[c], 1);
        alt[c] = fastest(cand[c], n_cand[c], total[c], timed[c], n_pick[c], 0);
        if (!plan->variants_exclusive) /* any mix of the default form and variants */
            win[c] = alt[c] = fastest(cand[c], n_cand[c], total[c], timed[c], n_pick[c], -1);
        if (alt[c] < 0) alt[c] = win[c]; /* only CLBlast's own was timed */
        if (win[c] < 0 || alt[c] < 0 || total[c][0] <= 0) continue;
        score[0] += total[c][win[c]] / total[c][0];
        score[1] += total[c][alt[c]] / total[c][0];
    }
    if (score[1] < score[0]) memcpy(win, alt, sizeof win);
    for (int c = 0; c < TS_GEMM_CLASSES; c++) {
        /* the winner: least total time among candidates timed on every shape of the class */
        int best = win[c], best_tiled = -1, untuned = -1, compared = 0;
        double flops = 0;
        for (int si = 0; si < n_pick[c]; si++)
            flops += ts_gemm_flops(&pick[c][si]);
        for (int k = 0; k < n_cand[c]; k++) {
            if (n_pick[c] == 0 || timed[c][k] < n_pick[c]) continue;
            compared++;
            if (cand[c][k].kernel == TS_GEMM_TILED &&
                (best_tiled < 0 || total[c][k] < total[c][best_tiled]))
                best_tiled = k;
            if (same_choice(&cand[c][k], &plan->untuned[c])) untuned = k;
        }
        cJSON *jc = cJSON_AddObjectToObject(jclasses, ts_gemm_class_name((ts_gemm_class)c));
        cJSON *js = cJSON_AddArrayToObject(jc, "shapes");
        for (int si = 0; si < n_pick[c]; si++)
            cJSON_AddItemToArray(js, shape_json(&pick[c][si]));
        /* what the budget left out: candidates never started in this class */
        cJSON *jn = cJSON_AddArrayToObject(jc, "not_tried");
        for (int k = 0; k < n_cand[c]; k++) {
            if (tried[c][k] > 0) continue;
            char name[32];
            ts_gemm_choice_name(&cand[c][k], name, sizeof name);
            cJSON_AddItemToArray(jn, cJSON_CreateString(name));
        }
        gflops[c] = 0;
        if (best < 0) {
            cJSON_AddStringToObject(jc, "kernel", "untuned (not timed within the budget)");
            continue;
        }
        plan->cls[c] = cand[c][best];
        if (best_tiled >= 0) plan->ours[c] = cand[c][best_tiled];
        gflops[c] = flops / total[c][best] / 1e9;
        char name[32];
        ts_gemm_choice_name(&plan->cls[c], name, sizeof name);
        cJSON_AddStringToObject(jc, "kernel", name);
        cJSON_AddNumberToObject(jc, "gflops", gflops[c]);
        cJSON_AddNumberToObject(jc, "candidates_timed", compared);
        if (untuned >= 0) {
            cJSON_AddNumberToObject(jc, "untuned_gflops", flops / total[c][untuned] / 1e9);
            cJSON_AddNumberToObject(jc, "tuned_over_untuned", total[c][untuned] / total[c][best]);
        }
    }
    if (done == 0)
        return ts_set_error("tune: the budget of %.0f s ran out before any configuration was "
                            "timed; give a larger --budget",
                            budget);
    cJSON_AddBoolToObject(report, "budget_exhausted", out_of_time);
    cJSON_AddNumberToObject(report, "seconds", ts_now() - start);
    return TS_OK;
}
