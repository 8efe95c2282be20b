/*
 * plot.h — the small PLplot layer the report and compare draw with: one house style (white page,
 * black axes, light grid, a ten-colour palette, readable text), log axes labelled 1-2-5 in SI
 * ("100k", "1M"), legends, and a grouped bar chart.
 *
 * PLplot keeps global state per stream: ts_plot_render opens a fresh stream per file, draws and
 * closes it, so no setting leaks from one plot into the next. Not thread-safe (PLplot is not).
 */
#ifndef TS_ANALYSIS_PLOT_H
#define TS_ANALYSIS_PLOT_H

#include <stddef.h>

#include "util/error.h"

/* cmap0 indices of the house palette. */
enum { TS_COL_BG = 0, TS_COL_FG = 1, TS_COL_GRID = 2, TS_COL_TEXT2 = 3, TS_COL_SERIES = 4 };
#define TS_PLOT_N_SERIES 10

/* Colour index for series i (cycles through the ten series colours). */
int ts_plot_color(int i);
/* A marker glyph for series i ("●", "▲", ...), cycling. */
const char *ts_plot_marker(int i);

/* Sets the text size relative to the house size (1.0: tick labels; titles 1.3). */
void ts_plot_text(double rel);

/* Draws on the current stream, which is initialised with the house style. */
typedef void (*ts_plot_draw_fn)(void *ctx);

/* Whether PLplot can draw here: both cairo devices (svgcairo, pngcairo) are listed in its
 * driver folder and their module loads. Checked once, without ever letting PLplot prompt on
 * stdin or exit the process (it does both when a driver is missing). When not, *why (if given)
 * is one line naming what is missing and how to get it. */
int ts_plot_available(const char **why);

/* Removes the temporaries (*.svg.tmp, *.png.tmp) a killed earlier run left in dir. */
void ts_plot_clean_tmp(const char *dir);

/* Renders draw() into base.svg and base.png (cairo), each written atomically; width × height
 * pixels. Creates base's folder if needed. Fails (writing nothing) when !ts_plot_available. */
ts_status ts_plot_render(const char *base, int width, int height, ts_plot_draw_fn draw, void *ctx);

/* Viewport, window, grid, box, tick labels and titles. Log axes take log10 values in
 * [xmin, xmax] / [ymin, ymax] and are labelled at 1-2-5 (short spans) or decades. */
typedef struct {
    double xmin, xmax, ymin, ymax;
    int logx, logy;
    const char *title, *xlabel, *ylabel;
    double vp_left, vp_right, vp_bottom, vp_top; /* viewport; 0 = the default margins */
    int no_ylabels; /* the caller labels the y axis itself (bar charts) */
} ts_plot_axes;
void ts_plot_draw_axes(const ts_plot_axes *ax);

/* The range of finite values (log10 of the positive ones when log), padded by frac of the span. */
int ts_plot_range(const double *v, size_t n, int log, double frac, double *lo, double *hi);

typedef struct {
    const char *text;
    int color;          /* cmap0 index */
    int line_style;     /* pllsty code; 0 = no line */
    const char *symbol; /* marker glyph; NULL = none */
    int box;            /* 1: a colour box (bar charts) */
} ts_legend_entry;
/* position: PL_POSITION_* flags; x, y offsets as in pllegend. */
void ts_plot_legend(const ts_legend_entry *e, int n, int position, double x, double y);

/* Horizontal grouped bars: one group per category (top to bottom), one bar per series. */
typedef struct {
    const char *title, *xlabel;
    size_t n_cat, n_series;
    const char *const *cat_labels;
    const char *const *series_labels;
    const double *values; /* [cat * n_series + series]; NAN or <= 0 = no bar */
    int logx;
} ts_bar_chart;
ts_status ts_plot_bars(const char *base, const ts_bar_chart *chart);

#endif
