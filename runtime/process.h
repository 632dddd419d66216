/* Processes that are not necessarily our children: a process's start time
 * (field 22 of /proc/PID/stat, clock ticks since boot) with its pid identifies
 * it across pid reuse.  netsim records "PID STARTTIME" for node PID 1s, QEMU
 * processes and background forwards, checks the start time before it signals
 * one, and stops them all with process_stop(). */
#ifndef NETSIM_PROCESS_H
#define NETSIM_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

/* Start time of `pid`, 0 when there is no such process. */
unsigned long long process_starttime(pid_t pid);

/* A process pinned for signalling and waiting.  A pidfd pins it (no pid reuse
 * between check and kill) and polls readable once it has exited — for a pid
 * namespace's init only after the kernel has reaped every other process in it,
 * so its mount namespace is released by then.  Where pidfd_open is missing
 * (kernel before 5.3, valgrind, some seccomp profiles) the start time is
 * re-checked before each signal and /proc is polled instead. */
struct process_ref {
	pid_t pid;
	unsigned long long starttime;
	int fd; /* pidfd, or -1 for the /proc fallback */
};

/* 0, -ESRCH when that process (pid with that start time) is gone, or -errno. */
int process_ref_open(pid_t pid, unsigned long long starttime, struct process_ref *ref);
void process_ref_close(struct process_ref *ref);

/* 0 (also when it is gone already) or -errno. */
int process_ref_signal(const struct process_ref *ref, int sig);

/* True when it has exited (a zombie counts) within timeout_ms.  Reaps nothing. */
bool process_ref_wait(const struct process_ref *ref, unsigned timeout_ms);

/* process_ref_open + process_ref_wait: true when it is gone within timeout_ms. */
bool process_wait_gone(pid_t pid, unsigned long long starttime, unsigned timeout_ms);

/* Stop a process: SIGTERM, up to grace_ms for it to exit, then SIGKILL and up to
 * kill_wait_ms more (grace_ms 0: SIGKILL at once).  A child of ours is reaped.
 * 0 when it ended on SIGTERM or was gone already, 1 when it needed SIGKILL,
 * -ETIMEDOUT when it outlived that too, another -errno when it cannot be
 * signalled. */
int process_stop(pid_t pid, unsigned long long starttime, unsigned grace_ms,
		 unsigned kill_wait_ms);

#endif
