/* Network namespaces: create, bind, open, enter and remove them (netns.c). */
#ifndef NETSIM_NETNS_H
#define NETSIM_NETNS_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Network namespaces.  Paths are bind-mount targets such as /run/netns/NAME; the
 * parent directory is prepared like iproute2 does (so `ip netns exec` works). */
int netns_create(const char *bind_path, struct error *err);          /* new, empty */
int netns_bind_pid(pid_t pid, const char *bind_path, struct error *err); /* existing */
int netns_open(const char *bind_path, struct error *err);           /* fd or -errno */
int netns_remove(const char *bind_path, struct error *err);         /* idempotent */
/* Enter `ns_fd`; *saved gets an fd of the current netns for netns_leave(). */
int netns_enter(int ns_fd, int *saved, struct error *err);
int netns_leave(int *saved, struct error *err);
/* A short name for messages: NAME for a netns opened from /run/netns/NAME,
 * else what /proc/self/fd says ("net:[4026532...]"), else "fd N". */
void netns_describe(int ns_fd, char *buf, size_t size);

#endif
