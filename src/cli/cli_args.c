/* cli_args.c — the table-driven option parser (see cli_args.h). */
#include "cli/cli_args.h"

#include <getopt.h>
#include <stdint.h>
#include <string.h>

#include "cli/commands.h"

enum { MAX_OPTS = 64, FIRST_VAL = 0x200 }; /* table entries get values FIRST_VAL + index */

/* Stores one option's value; 1 ok, 0 a bad value. */
static int take(const ts_cli_opt *o, const char *arg) {
    double v = 0;
    int ok = 1;
    switch (o->kind) {
    case TS_ARG_ON:
    case TS_ARG_OFF:
        *(int *)o->dest = o->kind == TS_ARG_ON;
        break;
    case TS_ARG_STR:
        *(const char **)o->dest = arg;
        break;
    case TS_ARG_FN:
        ok = o->fn(arg, o->dest);
        break;
    default:
        if (!(ok = ts_cli_number(arg, o->lo, o->hi, &v))) break;
        if (o->kind == TS_ARG_INT) *(int *)o->dest = (int)v;
        if (o->kind == TS_ARG_LONG) *(long *)o->dest = (long)v;
        if (o->kind == TS_ARG_U64) *(uint64_t *)o->dest = (uint64_t)v;
        if (o->kind == TS_ARG_DOUBLE) *(double *)o->dest = v;
        if (o->kind == TS_ARG_FLOAT) *(float *)o->dest = (float)v;
    }
    if (ok && o->given) ++*o->given;
    return ok;
}

int ts_cli_parse(const ts_cli_spec *spec, int argc, char **argv, int *first_arg) {
    static const struct option backend_flags[] = {TS_CLI_BACKEND_FLAGS, TS_CLI_MEM_LIMIT_FLAG};
    struct option lopts[MAX_OPTS + 6];
    char shorts[2 * MAX_OPTS + 4] = ":h";
    int n = 0, ns = 2;
    for (; spec->opts[n].name && n < MAX_OPTS; n++) {
        const ts_cli_opt *o = &spec->opts[n];
        int has_arg = o->kind != TS_ARG_ON && o->kind != TS_ARG_OFF;
        lopts[n] = (struct option){o->name, has_arg, 0, FIRST_VAL + n};
        if (o->short_name) {
            shorts[ns++] = (char)o->short_name;
            if (has_arg) shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    int nl = n;
    for (int i = 0; spec->backend && i < 3 + !!spec->mem_limit; i++)
        lopts[nl++] = backend_flags[i];
    lopts[nl++] = (struct option){"help", 0, 0, 'h'};
    lopts[nl] = (struct option){0, 0, 0, 0};
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then also drops state left by an earlier parse */
    int c, li = 0;
    while ((c = getopt_long(argc, argv, shorts, lopts, &li)) != -1) {
        int ok;
        if (c == 'h') {
            spec->usage(stdout);
            return 0;
        }
        const ts_cli_opt *o = NULL;
        if (c >= FIRST_VAL && c < FIRST_VAL + n) o = &spec->opts[c - FIRST_VAL];
        for (int i = 0; !o && i < n; i++)
            if (spec->opts[i].short_name && spec->opts[i].short_name == c) o = &spec->opts[i];
        if (o) {
            ok = take(o, optarg);
            li = (int)(o - spec->opts); /* a short option's long name, for the message */
        } else if (!spec->backend || (ok = ts_cli_backend_flag(c, optarg, spec->backend)) < 0) {
            return ts_cli_option_error(spec->cmd, c, argv, lopts, li);
        }
        if (!ok) return ts_cli_option_error(spec->cmd, 0, argv, lopts, li);
    }
    if (argc - optind > spec->max_args) {
        fprintf(stderr, "tunescale %s: unexpected argument '%s'\n", spec->cmd,
                argv[optind + spec->max_args]);
        return 2;
    }
    *first_arg = optind;
    return -1;
}
