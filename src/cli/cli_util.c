/* cli_util.c — small helpers shared by the commands. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"

int ts_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    }
    return 0;
}

int ts_cli_number(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi)) return 0; /* also rejects NaN */
    *out = v;
    return 1;
}

int ts_cli_option_error(const char *cmd, int c, char **argv, const struct option *opts, int li) {
    if (c == ':')
        fprintf(stderr, "tunescale %s: %s needs a value (see --help)\n", cmd, argv[optind - 1]);
    else if (c)
        fprintf(stderr, "tunescale %s: unknown option '%s' (see --help)\n", cmd, argv[optind - 1]);
    else /* the flag's name, not its value: "--batch", also when written "--batch 0" */
        fprintf(stderr, "tunescale %s: bad value '%s' for --%s (see --help)\n", cmd, optarg,
                opts[li].name);
    return 2;
}

int ts_cli_print_json(const char *cmd, const cJSON *doc) {
    char *text = doc ? cJSON_Print(doc) : NULL;
    if (!text) {
        fprintf(stderr, "tunescale: %s: out of memory printing JSON\n", cmd);
        return 1;
    }
    printf("%s\n", text);
    cJSON_free(text);
    return 0;
}
