/*
 * plot.c — PLplot rendering in the house style (see plot.h).
 *
 * Every file is drawn twice, once per cairo device (svgcairo, pngcairo), each in its own stream
 * that is created, drawn and ended here, then renamed into place. PLplot exits the process when
 * it cannot open its output, so the temporary file is opened by us first and a failure is an
 * ordinary error. PLplot and its drivers may print to stdout; while a stream is open stdout is
 * pointed at stderr, so `--json` output stays one JSON document.
 *
 * A missing driver is worse: plinit then asks for a device on stdin (blocking on a pipe, or
 * exiting after ten empty answers), and plgDevs itself exits when the driver folder is empty.
 * So ts_plot_available looks at the driver folder with our own code first, and while a stream
 * is open stdin is /dev/null and an exit handler removes the temporary file.
 */
#include "analysis/plot.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <plplot/plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/format.h"
#include "util/fsutil.h"

/* ---- palette and markers ---- */

static const unsigned char palette[][3] = {
    {255, 255, 255}, /* background */
    {0, 0, 0},       /* axes and text */
    {222, 222, 222}, /* grid */
    {90, 90, 90},    /* secondary text */
    /* series: the "tab10" qualitative colours, distinguishable and colour-blind tolerant */
    {31, 119, 180},
    {255, 127, 14},
    {44, 160, 44},
    {214, 39, 40},
    {148, 103, 189},
    {140, 86, 75},
    {227, 119, 194},
    {127, 127, 127},
    {188, 189, 34},
    {23, 190, 207},
};
enum { n_palette = sizeof palette / sizeof palette[0] };

int ts_plot_color(int i) {
    return TS_COL_SERIES + (i % TS_PLOT_N_SERIES + TS_PLOT_N_SERIES) % TS_PLOT_N_SERIES;
}

const char *ts_plot_marker(int i) {
    static const char *const m[] = {"●", "▲", "■", "◆", "▼", "★"};
    return m[i % 6];
}

/* ---- rendering ---- */

/* PLplot scales text with the smaller page side; this undoes it, so text has one size in
 * pixels on every figure whatever its height. */
static double text_base = 1.0;

void ts_plot_text(double rel) {
    plschr(0, rel * text_base);
}

/* ---- is there a driver? ---- */

static const char *const devices[] = {"svgcairo", "pngcairo"}, *const exts[] = {"svg", "png"};

/* Exported by libplplot (declared in its private plplotP.h): the folder plinit loads drivers
 * from, $PLPLOT_DRV_DIR or the one it was built with. */
char *plGetDrvDir(void);

/* The module ("cairo") that serves dev, from the folder's *.driver_info files, whose lines are
 * "device:menu text:interactive:module:number:tag". 0 when no file lists dev. */
static int driver_module(const char *dir, const char *dev, char *module, size_t cap) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t dev_len = strlen(dev);
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 12 || strcmp(e->d_name + n - 12, ".driver_info") != 0) continue;
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        char line[512];
        while (!found && fgets(line, sizeof line, f)) {
            if (strncmp(line, dev, dev_len) != 0 || line[dev_len] != ':') continue;
            char *p = line;
            for (int field = 0; field < 3 && p; field++) {
                p = strchr(p, ':');
                if (p) p++;
            }
            size_t m = p ? strcspn(p, ":\r\n") : 0;
            if (m == 0 || m >= cap) continue;
            memcpy(module, p, m);
            module[m] = '\0';
            found = 1;
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

/* Fills why and returns 0 when a device cannot be used; PLplot itself is only asked once the
 * folder is known to hold the drivers, since plgDevs exits the process on an empty one. */
static int probe_drivers(char *why, size_t cap) {
    static const char *const hint = "apt-get install plplot-driver-cairo, or set PLPLOT_DRV_DIR";
    const char *dir = plGetDrvDir();
    if (!dir) dir = "(unknown)";
    char missing[64] = "";
    for (int k = 0; k < 2; k++) {
        char module[256];
        if (!driver_module(dir, devices[k], module, sizeof module)) {
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                     *missing ? "/" : "", devices[k]);
            continue;
        }
        /* PLplot exits when a listed module fails to load (libcairo absent), so try it here */
        char so[4600];
        snprintf(so, sizeof so, "%s/%s.so", dir, module);
        void *h = dlopen(so, RTLD_LAZY | RTLD_LOCAL);
        if (!h) {
            const char *err = dlerror();
            snprintf(why, cap, "PLplot's %s driver does not load (%s; %s)", devices[k],
                     err ? err : module, hint);
            return 0;
        }
        /* Kept loaded, not dlclose'd: unloading it would unload libcairo and libpixman, whose
         * load-time globals then show up as leaks under LeakSanitizer (scripts/sanitize.sh),
         * and PLplot loads the same module again right after. */
        (void)h;
    }
    if (!*missing) {
        const char *menu[256], *name[256], **pm = menu, **pn = name;
        int n = 256;
        plgDevs(&pm, &pn, &n);
        for (int k = 0; k < 2; k++) {
            int listed = 0;
            for (int i = 0; i < n; i++)
                listed |= name[i] && !strcmp(name[i], devices[k]);
            if (!listed)
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                         *missing ? "/" : "", devices[k]);
        }
    }
    if (*missing) {
        snprintf(why, cap, "PLplot has no %s driver in %s (%s)", missing, dir, hint);
        return 0;
    }
    return 1;
}

int ts_plot_available(const char **why) {
    static int known = 0, ok = 0;
    static char reason[1024];
    if (!known) {
        ok = probe_drivers(reason, sizeof reason);
        known = 1;
    }
    if (why) *why = ok ? NULL : reason;
    return ok;
}

void ts_plot_clean_tmp(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        for (int k = 0; k < 2; k++) {
            char suffix[16];
            snprintf(suffix, sizeof suffix, ".%s.tmp", exts[k]);
            size_t sl = strlen(suffix);
            if (n > sl && !strcmp(e->d_name + n - sl, suffix)) {
                char path[4600];
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        }
    }
    closedir(d);
}

/* ---- one file ---- */

/* The temporary file being drawn, for the exit handler. */
static const char *drawing_tmp;

/* PLplot calls exit() on errors it cannot return from (plexit), after closing its file: leave
 * no half-written file behind. */
static void remove_drawing_tmp(void) {
    if (drawing_tmp) unlink(drawing_tmp);
}

static ts_status render_one(const char *dev, const char *path, int width, int height,
                            ts_plot_draw_fn draw, void *ctx) {
    static int at_exit_set = 0;
    if (!at_exit_set) at_exit_set = atexit(remove_drawing_tmp) == 0;
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *probe = fopen(tmp, "wb");
    if (!probe) return ts_set_error("%s: cannot write (%s)", tmp, strerror(errno));
    fclose(probe);

    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    if (saved >= 0) dup2(STDERR_FILENO, STDOUT_FILENO);
    /* PLplot reads stdin when it wants a device, a file name or a key press: give it nothing */
    int saved_in = dup(STDIN_FILENO), null_in = open("/dev/null", O_RDONLY);
    if (null_in > STDIN_FILENO) {
        dup2(null_in, STDIN_FILENO);
        close(null_in);
    }
    drawing_tmp = tmp;

    PLINT prev = 0, strm = 0;
    plgstrm(&prev);
    plmkstrm(&strm);
    plsdev(dev);
    plsfnam(tmp);
    plspause(0);
    plspage(0, 0, width, height, 0, 0);
    plscolbg(255, 255, 255);
    plscmap0n(n_palette);
    for (int i = 0; i < n_palette; i++)
        plscol0(i, palette[i][0], palette[i][1], palette[i][2]);
    plinit();
    pladv(0);
    text_base = 820.0 / (width < height ? width : height);
    ts_plot_text(1.0);
    draw(ctx);
    plend1();
    plsstrm(prev);

    drawing_tmp = NULL;
    if (saved_in >= 0) {
        dup2(saved_in, STDIN_FILENO);
        close(saved_in);
    }
    clearerr(stdin);
    fflush(stdout);
    if (saved >= 0) {
        dup2(saved, STDOUT_FILENO);
        close(saved);
    }

    /* a driver that failed quietly leaves the file empty */
    struct stat sb;
    if (stat(tmp, &sb) != 0 || sb.st_size == 0) {
        unlink(tmp);
        return ts_set_error("%s: PLplot's %s driver wrote nothing", path, dev);
    }
    /* the same crash-safety as ts_atomic_commit: data on disk before the name points at it */
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        if (fd >= 0) close(fd);
        unlink(tmp);
        return ts_set_error("%s: cannot sync (%s)", tmp, strerror(errno));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return ts_set_error("%s: cannot rename into place (%s)", path, strerror(errno));
    }
    return TS_OK;
}

ts_status ts_plot_render(const char *base, int width, int height, ts_plot_draw_fn draw, void *ctx) {
    const char *why = NULL;
    if (!ts_plot_available(&why)) return ts_set_error("%s: %s", base, why);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", base);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        ts_status st = ts_mkdir_p(dir);
        if (st != TS_OK) return st;
    } else {
        snprintf(dir, sizeof dir, ".");
    }
    for (int k = 0; k < 2; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s.%s", base, exts[k]);
        ts_status st = render_one(devices[k], path, width, height, draw, ctx);
        if (st != TS_OK) return st;
    }
    return ts_fsync_dir(dir);
}

/* ---- axes ---- */

/* Tick values on a log axis spanning [lo, hi] decades: 1-2-5 when short, decades when long. */
static int log_ticks(double lo, double hi, double *out, int cap) {
    static const double fine[] = {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9},
                        mid[] = {1, 1.5, 2, 3, 5, 7}, m125[] = {1, 2, 5}, m1[] = {1};
    double span = hi - lo;
    const double *m = span <= 0.5 ? fine : span <= 1.0 ? mid : span <= 2.5 ? m125 : m1;
    int nm = span <= 0.5 ? 12 : span <= 1.0 ? 6 : span <= 2.5 ? 3 : 1;
    int step = span > 7 ? 2 : 1, n = 0;
    for (int e = (int)floor(lo) - 1; e <= (int)ceil(hi) && n < cap; e += step)
        for (int k = 0; k < nm && n < cap; k++) {
            double v = log10(m[k]) + e;
            if (v >= lo - 1e-9 && v <= hi + 1e-9) out[n++] = v;
        }
    return n;
}

static void tick_label(double log_v, char *buf, size_t cap) {
    double v = pow(10, log_v);
    if (v >= 1000)
        ts_fmt_si(v, buf, cap);
    else
        snprintf(buf, cap, "%g", v < 1 ? v : round(v * 1000) / 1000);
}

/* Grid lines and labels at log ticks; side 'x' or 'y'. */
static void log_axis(const ts_plot_axes *ax, char side) {
    double t[64], lo = side == 'x' ? ax->xmin : ax->ymin, hi = side == 'x' ? ax->xmax : ax->ymax;
    int n = log_ticks(lo, hi, t, 64);
    for (int i = 0; i < n; i++) {
        double px[2], py[2];
        if (side == 'x') {
            px[0] = px[1] = t[i];
            py[0] = ax->ymin;
            py[1] = ax->ymax;
        } else {
            py[0] = py[1] = t[i];
            px[0] = ax->xmin;
            px[1] = ax->xmax;
        }
        plcol0(TS_COL_GRID);
        plline(2, px, py);
        char label[32];
        tick_label(t[i], label, sizeof label);
        plcol0(TS_COL_FG);
        double pos = (t[i] - lo) / (hi - lo);
        if (side == 'x')
            plmtex("b", 1.6, pos, 0.5, label);
        else if (!ax->no_ylabels)
            plmtex("lv", 0.6, pos, 1.0, label);
    }
}

void ts_plot_draw_axes(const ts_plot_axes *ax) {
    plvpor(ax->vp_left > 0 ? ax->vp_left : 0.11, ax->vp_right > 0 ? ax->vp_right : 0.96,
           ax->vp_bottom > 0 ? ax->vp_bottom : 0.12, ax->vp_top > 0 ? ax->vp_top : 0.91);
    plwind(ax->xmin, ax->xmax, ax->ymin, ax->ymax);
    plwidth(1.0);
    pllsty(1);
    /* grid first, so data and the box draw over it */
    plcol0(TS_COL_GRID);
    plbox(ax->logx ? "" : "g", 0, 0, ax->logy || ax->no_ylabels ? "" : "g", 0, 0);
    if (ax->logx) log_axis(ax, 'x');
    if (ax->logy) log_axis(ax, 'y');
    plcol0(TS_COL_FG);
    char xopt[16], yopt[16];
    snprintf(xopt, sizeof xopt, "bcst%s", ax->logx ? "l" : "n");
    snprintf(yopt, sizeof yopt, "bc%s", ax->no_ylabels ? "" : ax->logy ? "stl" : "stnv");
    plbox(xopt, 0, 0, yopt, 0, 0);
    if (ax->xlabel) plmtex("b", 3.3, 0.5, 0.5, ax->xlabel);
    if (ax->ylabel) plmtex("l", 4.2, 0.5, 0.5, ax->ylabel);
    if (ax->title) {
        ts_plot_text(1.3);
        plmtex("t", 1.2, 0.5, 0.5, ax->title);
        ts_plot_text(1.0);
    }
}

int ts_plot_range(const double *v, size_t n, int log, double frac, double *lo, double *hi) {
    double a = INFINITY, b = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (!isfinite(x) || (log && x <= 0)) continue;
        if (log) x = log10(x);
        if (x < a) a = x;
        if (x > b) b = x;
    }
    if (a > b) return 0;
    double span = b - a;
    if (span <= 0) span = log ? 1.0 : (fabs(a) > 0 ? fabs(a) * 0.2 : 1.0);
    *lo = a - frac * span;
    *hi = b + frac * span;
    return 1;
}

/* ---- legend ---- */

void ts_plot_legend(const ts_legend_entry *e, int n, int position, double x, double y) {
    if (n <= 0) return;
    PLINT *opt = calloc((size_t)n, sizeof(PLINT) * 6);
    PLFLT *fl = calloc((size_t)n, sizeof(PLFLT) * 4);
    const char **text = calloc((size_t)n, sizeof(char *) * 2);
    if (!opt || !fl || !text) goto done;
    PLINT *text_col = opt + n, *col = opt + 2 * n, *pat = opt + 3 * n, *sty = opt + 4 * n,
          *nsym = opt + 5 * n;
    PLFLT *box_scale = fl, *box_w = fl + n, *line_w = fl + 2 * n, *sym_scale = fl + 3 * n;
    const char **syms = text + n;
    for (int i = 0; i < n; i++) {
        opt[i] = (e[i].box ? PL_LEGEND_COLOR_BOX : 0) | (e[i].line_style ? PL_LEGEND_LINE : 0) |
                 (e[i].symbol ? PL_LEGEND_SYMBOL : 0);
        if (!opt[i]) opt[i] = PL_LEGEND_NONE;
        text[i] = e[i].text;
        text_col[i] = TS_COL_FG;
        col[i] = e[i].color;
        pat[i] = 0;
        box_scale[i] = 0.8;
        box_w[i] = 1.0;
        sty[i] = e[i].line_style ? e[i].line_style : 1;
        line_w[i] = 2.0;
        sym_scale[i] = text_base;
        nsym[i] = 1;
        syms[i] = e[i].symbol ? e[i].symbol : "";
    }
    PLFLT w, h;
    pllsty(1);
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, position, x, y, 0.07, TS_COL_BG,
             TS_COL_GRID, 1, 0, 0, n, opt, 1.0, 0.95 * text_base, 2.0, 0.0, text_col, text, col,
             pat, box_scale, box_w, col, sty, line_w, col, sym_scale, nsym, syms);
done:
    free(opt);
    free(fl);
    free(text);
}

/* ---- grouped bars ---- */

/* about 22 px per bar, so labels never overlap however many groups there are */
/* Pixel layout of a bar chart: about 22 px per bar, so labels never overlap however many
 * groups there are, and one legend line per series under the axes (labels can be long paths). */
enum { bars_top_px = 60, bars_below_px = 110, bars_legend_line_px = 34 };
static double bars_axes_px(const ts_bar_chart *c) {
    return fmax(300, (double)c->n_cat * (22.0 * (double)c->n_series + 16.0));
}
static int bars_height(const ts_bar_chart *c) {
    return (int)(bars_top_px + bars_axes_px(c) + bars_below_px +
                 bars_legend_line_px * (double)c->n_series + 20);
}

static void draw_bars(void *ctx) {
    const ts_bar_chart *c = ctx;
    double lo = 0, hi = 1;
    size_t nv = c->n_cat * c->n_series;
    if (!ts_plot_range(c->values, nv, c->logx, 0.0, &lo, &hi)) lo = 0, hi = 1;
    if (c->logx) {
        lo = floor(lo); /* bars start at a decade, so their lengths compare */
        hi += 0.25 * (hi - lo) + 0.05;
    } else {
        lo = 0;
        hi *= 1.2;
    }
    size_t maxlen = 1;
    for (size_t k = 0; k < c->n_cat; k++)
        if (strlen(c->cat_labels[k]) > maxlen) maxlen = strlen(c->cat_labels[k]);
    ts_plot_axes ax = {.xmin = lo,
                       .xmax = hi,
                       .ymin = 0,
                       .ymax = (double)c->n_cat,
                       .logx = c->logx,
                       .title = c->title,
                       .xlabel = c->xlabel,
                       .no_ylabels = 1,
                       .vp_left = fmin(0.45, 0.05 + 0.0125 * (double)maxlen),
                       .vp_right = 0.95,
                       .vp_bottom = 1.0 - (bars_top_px + bars_axes_px(c)) / bars_height(c),
                       .vp_top = 1.0 - (double)bars_top_px / bars_height(c)};
    ts_plot_draw_axes(&ax);
    double band = 0.8 / (double)(c->n_series ? c->n_series : 1);
    for (size_t k = 0; k < c->n_cat; k++) {
        double top = (double)(c->n_cat - k) - 0.1; /* first category at the top */
        plcol0(TS_COL_FG);
        plmtex("lv", 0.6, (top - 0.4) / (double)c->n_cat, 1.0, c->cat_labels[k]);
        for (size_t s = 0; s < c->n_series; s++) {
            double v = c->values[k * c->n_series + s];
            if (!isfinite(v) || v <= 0) {
                /* skipped (out of memory), failed or not run: say so rather than leave a gap */
                plcol0(TS_COL_TEXT2);
                ts_plot_text(0.7);
                plptex(lo + 0.008 * (hi - lo), top - band * ((double)s + 0.5), 1, 0, 0,
                       "no result");
                ts_plot_text(1.0);
                continue;
            }
            double x1 = c->logx ? log10(v) : v, y0 = top - band * (double)(s + 1),
                   y1 = top - band * (double)s;
            PLFLT px[4] = {lo, x1, x1, lo}, py[4] = {y0, y0, y1, y1};
            plcol0(ts_plot_color((int)s));
            plfill(4, px, py);
            char label[32];
            ts_fmt_si(v, label, sizeof label);
            plcol0(TS_COL_TEXT2);
            ts_plot_text(0.7);
            plptex(x1 + 0.008 * (hi - lo), (y0 + y1) / 2, 1, 0, 0, label);
            ts_plot_text(1.0);
        }
    }
    ts_legend_entry *e = calloc(c->n_series, sizeof *e);
    if (!e) return;
    for (size_t s = 0; s < c->n_series; s++)
        e[s] = (ts_legend_entry){c->series_labels[s], ts_plot_color((int)s), 0, NULL, 1};
    ts_plot_legend(e, (int)c->n_series, PL_POSITION_BOTTOM | PL_POSITION_OUTSIDE, 0.0,
                   85.0 / bars_axes_px(c));
    free(e);
}

ts_status ts_plot_bars(const char *base, const ts_bar_chart *chart) {
    return ts_plot_render(base, 1100, bars_height(chart), draw_bars, (void *)chart);
}
