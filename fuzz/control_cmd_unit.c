/*
 * control_cmd_unit.c - daemon/control_cmd.c (the control socket's commands)
 * compiled for fuzz-control; the daemon has no library to link.
 */
#include "control_cmd.c"
