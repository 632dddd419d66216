/* The privilege limits every node process runs under: a reduced capability set
 * (libcap) and a seccomp filter (libseccomp).  Used for a node's init and for every
 * process `netsim exec` starts inside a node, so both see the same limits. */
#ifndef NETSIM_SECURITY_H
#define NETSIM_SECURITY_H

#include <stdint.h>

#include "error.h"

/* Bit N set = capability N kept (the CapEff a node's root process ends up with). */
uint64_t security_capability_mask(void);

/* The capabilities a node may be given on top of those (security_apply's
 * `extra`): CAP_SYS_ADMIN, for a node in its own user namespace only. */
uint64_t security_optional_capability_mask(void);

/* NULL-terminated list of the kept capabilities' names ("CAP_CHOWN", ...). */
const char *const *security_capability_names(void);

/* Compile the seccomp filter once per process and keep the BPF program in static
 * memory, so children created by clone()/fork() afterwards only have to load it.
 * Idempotent; called implicitly by security_apply() when needed. */
int security_prepare(struct error *err);

/* In the process that is about to execve: drop every capability outside the kept
 * set and `extra` (bits of security_optional_capability_mask(); the caller makes
 * sure the process is in a user namespace of its own) from the bounding set, install the seccomp filter, clear the ambient set and
 * reduce permitted/effective to the kept set (inheritable becomes empty).  Needs
 * CAP_SETPCAP and CAP_SYS_ADMIN on entry (i.e. real root); irreversible. */
int security_apply(uint64_t extra, struct error *err);

#endif
