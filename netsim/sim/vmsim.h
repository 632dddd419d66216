/* The whole sim in one VM (`netsim up --vm FILE`, docs/vm.md).
 *
 * One QEMU VM boots netsim's kernel (batman-adv, 8021q, sch_netem,
 * mac80211_hwsim as modules) with no network device at all, and runs netsim
 * itself inside with the container backend.  The host keeps only:
 *
 *   /run/netsim/SIM/vm             the marker: "key=value" lines (accel, mem,
 *                                  cpus, topology, created)
 *   /run/netsim/SIM/vm.d/          the QEMU run dir (qemu.h): qemu.pid,
 *                                  agent.sock, console.sock, console.log, qemu.log
 *   /run/netsim/SIM/topology.conf  a copy of the topology (for `graph SIM`)
 *
 * Every sim-scoped verb on such a sim is forwarded through the guest agent to the
 * netsim inside (cli/vm_forward.c, vmsim_exec), with its stdout, stderr and exit
 * status passed back. */
#ifndef NETSIM_VMSIM_H
#define NETSIM_VMSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "topo/topo.h"

#define VMSIM_DEFAULT_MEM_MIB 512

struct vmsim_options {
	unsigned mem_mib;     /* 0: VMSIM_DEFAULT_MEM_MIB */
	bool quiet;           /* passed to the netsim up inside; no VM line either */
};

/* SIM was started with --vm (its marker exists). */
bool vmsim_is_vm(const char *sim);

/* What a successful `up --vm` booted, for the verb to print. */
struct vmsim_summary {
	char sim[TOPO_SIM_MAX + 1];
	char accel[8];            /* "kvm" or "tcg" */
	unsigned cpus, mem_mib;
	long long boot_ms;        /* QEMU start until its agent answered */
	double seconds;           /* from the boot until the inner `up` was done */
};

/* Boot the VM and run `netsim up` of `t` (t->path is the file) inside it; the
 * inner up's output passes through.  All or nothing: on failure or
 * SIGINT/SIGTERM/SIGHUP the VM is stopped and the host state removed.  On
 * success *sum (unless NULL) says what runs. */
int vmsim_up(const struct topo *t, const struct vmsim_options *opt, struct vmsim_summary *sum,
	     struct error *err);

/* Stop SIM's VM and remove its host state.  Idempotent; works after `up --vm`
 * was killed at any point. */
int vmsim_down(const char *sim, struct error *err);

/* Value of `key` in SIM's marker ("accel", "pid", "topology", ...), or "". */
void vmsim_marker_get(const char *sim, const char *key, char *out, size_t len);
/* SIM's QEMU run dir (run_dir has PATH_MAX bytes), and QEMU's pid when it runs, else 0. */
void vmsim_run_dir(const char *sim, char *run_dir);
pid_t vmsim_vm_pid(const char *sim);

/* Run netsim with argv[] (argv[0] the verb) inside SIM's VM, through the guest
 * agent: its stdin from in_fd (-1: none) or, when stdin_file is not "-", from
 * in_fd saved as stdin_file inside first; stdout to out_fd, stderr to ours.
 * *status gets its exit status (cli/vm_forward.c forwards the verbs). */
int vmsim_exec(const char *sim, const char *stdin_file, int argc, char *const argv[], int in_fd,
	       int out_fd, int *status, struct error *err);

/* One line for `netsim list`. */
void vmsim_list_line(const char *sim);

#endif
