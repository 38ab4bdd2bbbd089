/*
 * control_cmd_unit.c - daemon/control/control_cmd.c (the control socket's commands)
 * compiled for fuzz-control, without the rest of its layer.
 */
#include "control_cmd.c"
