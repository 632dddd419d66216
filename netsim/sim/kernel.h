/* The seam between a sim's orchestration (sim.c, node.c) and what it makes the
 * kernel do: namespaces, links, bridges and shaping (net/), containers and
 * cgroups (runtime/), the sim's tmpfs, the host's neighbour tables
 * (neigh_limits.c), qemu nodes (qemu_node.c → vm/) and the VM of `up --vm`
 * (vmsim.c → vm/).  `up` creates these
 * in many steps, and any step can fail or be interrupted: everything created
 * before must then be removed, nothing else.
 *
 * sim.c, node.c and vmsim.c make every such call through `sim_kernel`, which is the
 * real implementation (sim_kernel_real) unless a test replaced it with
 * sim_kernel_override().  tests/unit/test_sim_rollback.c links a fake that
 * records each create and remove, fails (or raises SIGINT) at step K, and
 * checks the ledger for every K, without root; test_vmsim_rollback.c does the
 * same for `up --vm`.  Each member has the signature
 * of the function it stands for (kill, mount, umount2: libc's). */
#ifndef NETSIM_SIM_KERNEL_H
#define NETSIM_SIM_KERNEL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "cgroup.h"
#include "container.h"
#include "error.h"
#include "net/netlink.h"
#include "sim/neigh_limits.h"
#include "sim/qemu_node.h"
#include "topo/topo.h"

struct sim_kernel_ops {
	/* net/netns.h */
	int (*netns_create)(const char *bind_path, struct error *err);
	int (*netns_bind_pid)(pid_t pid, const char *bind_path, struct error *err);
	int (*netns_open)(const char *bind_path, struct error *err);
	int (*netns_remove)(const char *bind_path, struct error *err);
	/* net/netlink.h, net/shape.h */
	int (*net_open)(struct net **out, struct error *err);
	void (*net_close)(struct net *n);
	int (*net_veth_create)(struct net *n, int ns_a, const char *name_a,
			       const uint8_t mac_a[6], int ns_b, const char *name_b,
			       const uint8_t mac_b[6], struct error *err);
	int (*net_bridge_create)(struct net *n, int ns, const char *name, struct error *err);
	int (*net_bridge_attach)(int ns, const char *ifname, const char *bridge,
				 struct error *err);
	int (*shape_apply)(int ns, const char *ifname, const struct topo_quality *q,
			   struct error *err);
	/* runtime/container.h, and the signal `down` sends a node's PID 1 */
	int (*container_create)(const struct container_config *cfg, struct container *c,
				struct error *err);
	int (*container_wait_ready)(struct container *c, struct error *err);
	int (*container_start)(struct container *c, struct error *err);
	void (*container_release)(struct container *c);
	void (*container_destroy)(struct container *c);
	int (*kill)(pid_t pid, int sig);
	/* runtime/cgroup.h */
	int (*cgroup_system_get)(const struct cgroup_system **sys, struct error *err);
	int (*cgroup_create)(const struct cgroup_system *sys, const char *path, bool parent,
			     const struct cgroup_limits *limits, struct error *err);
	bool (*cgroup_exists)(const struct cgroup_system *sys, const char *path);
	int (*cgroup_attach)(const struct cgroup_system *sys, const char *path, pid_t pid,
			     struct error *err);
	int (*cgroup_remove)(const struct cgroup_system *sys, const char *path,
			     bool prune_parents, struct error *err);
	/* the sim's tmpfs of node dirs */
	int (*mount)(const char *source, const char *target, const char *fstype,
		     unsigned long flags, const void *data);
	int (*umount2)(const char *target, int flags);
	/* sim/neigh_limits.h: the host's sysctls */
	int (*neigh_limits_claim)(const char *sim, const struct neigh_need *need, FILE *notice,
				  struct error *err);
	int (*neigh_limits_release)(struct error *err);
	/* sim/qemu_node.h: the VMs and their namespaces */
	int (*qemu_node_create)(const char *sim, const char *node,
				const struct qemu_node_setup *setup, struct error *err);
	int (*qemu_node_boot_all)(const char *sim, const struct topo *t, const unsigned *idx,
				  unsigned count, struct qemu_vm *vms,
				  volatile sig_atomic_t *interrupted, struct error *err);
	void (*qemu_node_teardown)(const char *sim, const char *node);
	/* vm/qemu.h: the one VM of `up --vm` (sim/vmsim.c); start and exec run in
	 * its boot child */
	int (*qemu_check)(const char *kernel_dir, const char *const *modules, struct error *err);
	int (*qemu_node_start)(const struct qemu_node_config *cfg, struct qemu_vm *vm,
			       struct error *err);
	int (*qemu_agent_exec)(const char *run_dir, char *const argv[], int in_fd, int out_fd,
			       int err_fd, int timeout_ms, int *status, struct error *err);
	int (*qemu_node_stop)(const char *run_dir, struct error *err);
	/* sim/radio.h: a sysctl inside a namespace; the sim's medium process */
	int (*netns_sysctl)(int ns, const char *key, const char *value, struct error *err);
	int (*medium_start)(const char *sim, struct error *err);
	int (*medium_stop)(const char *sim, struct error *err);
	/* sim/wifi.h: mac80211_hwsim radios */
	int (*wifi_check)(struct error *err);
	int (*wifi_radio_create)(int sw_ns, int node_ns, const uint8_t mac[6], const char *ifname,
				 bool ibss, struct error *err);
	int (*wifi_radios_delete)(int ns, struct error *err);
};

extern const struct sim_kernel_ops sim_kernel_real;
extern const struct sim_kernel_ops *sim_kernel;

/* Tests only: make every call through `ops` (NULL: the real one again). */
void sim_kernel_override(const struct sim_kernel_ops *ops);

#endif
