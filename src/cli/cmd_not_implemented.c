/* cmd_not_implemented.c — placeholder for commands whose issue has not landed yet. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

int ts_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    }
    return 0;
}

typedef struct {
    const char *name, *synopsis, *issue;
} planned;

/* The contract's synopsis for each planned command, and the issue that brings it. */
static const planned planned_commands[] = {
    {"params", "tunescale params [--json]", "CPU reference engine (#4)"},
    {"train",
     "tunescale train --model NAME|FILE.json --data DIR --backend cpu|opencl|vulkan [--device N]\n"
     "                [--steps N | --tokens N | --epochs E] [--batch B] [--stride S] [--lr X]\n"
     "                [--seed S] [--mem-limit SIZE] [--out DIR] [--resume] [--init FILE]",
     "CPU reference engine (#4)"},
    {"sweep",
     "tunescale sweep --preset quick|seed|FILE.json --data DIR --backend B[,B...] --out DIR\n"
     "                [--mem-limit SIZE] [--force]",
     "benchmark harness (#7)"},
    {"report", "tunescale report DIR", "benchmark harness (#7)"},
    {"compare", "tunescale compare DIR DIR...", "benchmark harness (#7)"},
    {"bench",
     "tunescale bench gemm|peak|step --backend B [--model NAME --batch B --steps N] [--json]",
     "benchmark harness (#7)"},
    {"sample",
     "tunescale sample --checkpoint FILE [--n N] [--temperature T] [--top-k K] [--prompt TEXT] "
     "[--seed S]",
     "generation and evaluation (#8)"},
    {"eval", "tunescale eval --checkpoint FILE --data DIR", "generation and evaluation (#8)"},
    {"abc", "tunescale abc check FILE...\ntunescale abc midi FILE... --out DIR",
     "generation and evaluation (#8)"},
};

int cmd_not_implemented(int argc, char **argv) {
    const planned *p = NULL;
    for (size_t i = 0; i < sizeof planned_commands / sizeof planned_commands[0]; i++)
        if (!strcmp(argv[0], planned_commands[i].name)) p = &planned_commands[i];
    if (!p) {
        fprintf(stderr, "tunescale: %s: not implemented yet\n", argv[0]);
        return 2;
    }
    if (ts_wants_help(argc, argv)) {
        printf("usage: %s\n\n(not implemented yet: arrives with the %s issue)\n", p->synopsis,
               p->issue);
        return 0;
    }
    fprintf(stderr, "tunescale: %s: not implemented yet (arrives with the %s issue)\n", argv[0],
            p->issue);
    return 2;
}
