/* cmd_eval.c — placeholder until its implementation lands. */
#include "cli/commands.h"

int cmd_eval(int argc, char **argv) { return cmd_not_implemented(argc, argv); }
