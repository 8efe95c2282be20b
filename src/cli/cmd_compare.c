/* cmd_compare.c — placeholder until its implementation lands. */
#include "cli/commands.h"

int cmd_compare(int argc, char **argv) { return cmd_not_implemented(argc, argv); }
