/* qemu-node: drives netsim/vm/qemu.h directly, for 95-qemu.t and tests/bench/vm.sh
 * (until `netsim up` starts backend=qemu nodes itself).
 *
 *   qemu-node start --name NODE --netns PATH --run-dir DIR --rootfs DIR|TARBALL
 *                   [--nic IFNAME=MAC]... [--env NAME=VALUE]... [--module NAME]...
 *                   [--files DIR] [--memory MIB] [--timeout SECONDS]
 *   qemu-node exec --run-dir DIR [--stdin] [--timeout SECONDS] -- COMMAND...
 *   qemu-node stop --run-dir DIR
 *
 * start prints "pid=PID accel=ACCEL boot_ms=MS"; exec's exit status is the
 * command's. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/qemu.h"
#include "rootfs.h"
#include "sim/state.h"

static int parse_mac(const char *text, uint8_t mac[6])
{
	unsigned v[6];
	if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "name", required_argument, NULL, 'n' },  { "netns", required_argument, NULL, 'N' },
		{ "run-dir", required_argument, NULL, 'd' }, { "rootfs", required_argument, NULL, 'r' },
		{ "nic", required_argument, NULL, 'i' },   { "env", required_argument, NULL, 'e' },
		{ "module", required_argument, NULL, 'm' }, { "memory", required_argument, NULL, 'M' },
		{ "timeout", required_argument, NULL, 't' }, { "stdin", no_argument, NULL, 's' },
		{ "files", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct qemu_node_config cfg = { 0 };
	struct qemu_nic nics[16];
	const char *env[32] = { 0 }, *modules[32] = { 0 };
	unsigned n_env = 0, n_modules = 0;
	const char *rootfs = NULL;
	int timeout_s = 0, use_stdin = 0, opt;
	struct error err = { 0 };

	if (argc < 2) {
		fprintf(stderr, "usage: qemu-node start|exec|stop ...\n");
		return 2;
	}
	const char *verb = argv[1];
	argv++;
	argc--;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (opt) {
		case 'n': cfg.name = optarg; break;
		case 'N': cfg.netns_path = optarg; break;
		case 'd': cfg.run_dir = optarg; break;
		case 'r': rootfs = optarg; break;
		case 'f': cfg.files_dir = optarg; break;
		case 'e': if (n_env < 31) env[n_env++] = optarg; break;
		case 'm': if (n_modules < 31) modules[n_modules++] = optarg; break;
		case 'M': cfg.memory_mib = (unsigned)atoi(optarg); break;
		case 't': timeout_s = atoi(optarg); break;
		case 's': use_stdin = 1; break;
		case 'i': {
			char *eq = strchr(optarg, '=');
			if (!eq || cfg.n_nics >= 16 || eq - optarg >= 16 ||
			    parse_mac(eq + 1, nics[cfg.n_nics].mac) < 0) {
				fprintf(stderr, "qemu-node: --nic IFNAME=MAC\n");
				return 2;
			}
			memset(nics[cfg.n_nics].ifname, 0, sizeof(nics[0].ifname));
			memcpy(nics[cfg.n_nics].ifname, optarg, (size_t)(eq - optarg));
			cfg.n_nics++;
			break;
		}
		default: return 2;
		}
	}
	if (!cfg.run_dir) {
		fprintf(stderr, "qemu-node: --run-dir is required\n");
		return 2;
	}
	if (strcmp(verb, "stop") == 0)
		return qemu_node_stop(cfg.run_dir, &err) < 0;
	if (strcmp(verb, "exec") == 0) {
		int status = 0;
		if (qemu_agent_exec(cfg.run_dir, argv + optind, use_stdin ? 0 : -1, 1, 2,
				    timeout_s * 1000, &status, &err) < 0) {
			fprintf(stderr, "qemu-node: %s\n", err.msg);
			return 255;
		}
		return status;
	}
	if (strcmp(verb, "start") != 0 || !cfg.name || !cfg.netns_path || !rootfs) {
		fprintf(stderr, "qemu-node: start needs --name, --netns, --rootfs\n");
		return 2;
	}
	char *rootfs_dir = NULL;
	if (rootfs_resolve(rootfs, state_cache_dir(), NULL, &rootfs_dir, &err) < 0) {
		fprintf(stderr, "qemu-node: rootfs %s: %s\n", rootfs, err.msg);
		return 1;
	}
	cfg.rootfs_dir = rootfs_dir;
	cfg.nics = nics;
	cfg.env = env;
	cfg.modules = modules;
	cfg.boot_timeout_ms = (unsigned)timeout_s * 1000;
	struct qemu_vm vm;
	int ret = qemu_node_start(&cfg, &vm, &err);
	free(rootfs_dir);
	if (ret < 0) {
		fprintf(stderr, "qemu-node: %s\n", err.msg);
		return 1;
	}
	printf("pid=%d accel=%s boot_ms=%lld\n", (int)vm.pid, vm.accel, vm.boot_ms);
	return 0;
}
