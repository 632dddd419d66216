/* Processes a sim records besides its nodes' PID 1s (sim/proc.h). */
#include "sim/proc.h"

#include <dirent.h>
#include <signal.h>

#include "cleanup.h"
#include "process.h"
#include "sim/state.h"

int proc_pid_write(const char *path, pid_t pid, struct error *err)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return error_set(err, errno, "write %s", path);
	fprintf(f, "%d %llu\n", (int)pid, process_starttime(pid));
	if (fclose(f) != 0)
		return error_set(err, errno, "write %s", path);
	return 0;
}

pid_t proc_pid_read(const char *path)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	int pid;
	unsigned long long start;
	if (fscanf(f, "%d %llu", &pid, &start) != 2 || pid <= 0)
		return -EINVAL;
	unsigned long long now = process_starttime(pid);
	if (now == 0 || now != start)
		return 0;
	return pid;
}

int proc_stop_forwards(const char *sim)
{
	char dir[PATH_MAX];
	if (state_forward_path(dir, sizeof(dir), sim, NULL) < 0)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	pid_t pids[64];
	unsigned long long starts[64];
	unsigned n = 0;
	struct dirent *de;
	int stopped = 0;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		if (de->d_name[0] == '.' ||
		    state_forward_path(path, sizeof(path), sim, de->d_name) < 0)
			continue;
		pid_t pid = proc_pid_read(path);
		if (pid <= 0)
			continue;
		unsigned long long start = process_starttime(pid);
		stopped++;
		if (n == sizeof(pids) / sizeof(pids[0])) {
			(void)process_stop(pid, start, 1000, 1000);
			continue;
		}
		kill(pid, SIGTERM);
		pids[n] = pid;
		starts[n++] = start;
	}
	closedir(d);
	/* All were told at once; each gets a second to close its sockets. */
	for (unsigned i = 0; i < n; i++)
		if (!process_wait_gone(pids[i], starts[i], 1000))
			(void)process_stop(pids[i], starts[i], 0, 1000);
	return stopped;
}
