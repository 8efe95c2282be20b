/* fuzz_cli.c — the option parsers of `train` and `sweep` on arbitrary command lines. The input
 * is split at NUL or newline bytes into argv; the first byte picks the command. Only parsing
 * runs (ts_*_parse_args), never a training run. */
#include "fuzz_common.h"

#include "cli/commands.h"

enum { max_args = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) fuzz_quiet(), init = 1;
    if (size < 1) return 0;
    int which = data[0] & 1;
    /* Every argument its own exact-size heap string, so ASan sees a read past its end. */
    char *argv[max_args + 1];
    int argc = 0;
    argv[argc++] = strdup(which ? "sweep" : "train");
    size_t start = 1;
    for (size_t i = 1; i <= size && argc < max_args; i++) {
        if (i == size || data[i] == 0 || data[i] == '\n') {
            size_t n = i - start;
            char *a = malloc(n + 1);
            if (!a) abort();
            memcpy(a, data + start, n);
            a[n] = 0;
            argv[argc++] = a;
            start = i + 1;
        }
    }
    argv[argc] = NULL;
    /* --help prints to stdout; libFuzzer runs are silenced with -close_fd_mask. */
    if (which) {
        ts_sweep_options o;
        int report, json;
        ts_sweep_parse_args(argc, argv, &o, &report, &json);
    } else {
        ts_train_options o;
        ts_train_parse_args(argc, argv, &o);
    }
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return 0;
}
