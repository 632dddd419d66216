/* A process's start time (field 22 of /proc/PID/stat, clock ticks since boot):
 * with its pid, what identifies a process that is not our child across pid
 * reuse.  netsim records "PID STARTTIME" for node PID 1s, QEMU processes and
 * background forwards, and checks the start time before it signals one. */
#ifndef NETSIM_PROCESS_H
#define NETSIM_PROCESS_H

#include <sys/types.h>

/* Start time of `pid`, 0 when there is no such process. */
unsigned long long process_starttime(pid_t pid);

#endif
