/* cmd_abc.c — placeholder until its implementation lands. */
#include "cli/commands.h"

int cmd_abc(int argc, char **argv) { return cmd_not_implemented(argc, argv); }
