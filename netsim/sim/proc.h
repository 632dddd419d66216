/* Pid files and the processes a sim records besides its nodes' PID 1s.
 *
 * A pid file holds "PID STARTTIME\n" (process.h): reading one gives the pid only
 * while that same process still runs, so a recycled pid is never signalled.
 * Node pid files are state_pidfile_write/read (state.h); background `netsim
 * forward` relays record themselves in forwards/PORT, and `down` stops them
 * here before the namespaces go. */
#ifndef NETSIM_SIM_PROC_H
#define NETSIM_SIM_PROC_H

#include <sys/types.h>

#include "error.h"

/* Write "PID STARTTIME" for `pid` to `path`. */
int proc_pid_write(const char *path, pid_t pid, struct error *err);
/* The pid recorded at `path` when that process still runs (same start time),
 * 0 when it is gone or there is no file, -EINVAL for a garbled file. */
pid_t proc_pid_read(const char *path);

/* Stop every background relay recorded for SIM (SIGTERM, then SIGKILL after a
 * second), verifying each recorded pid against reuse.  For `netsim down`;
 * best effort, returns the number of relays stopped. */
int proc_stop_forwards(const char *sim);

#endif
