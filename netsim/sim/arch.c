/* A node's architecture (arch.h). */
#include "sim/arch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "sim/state.h"

int arch_check_node(const char *rootfs, const char *files, const struct feed *feed,
		    const char *init, struct elf_arch *a, struct error *err)
{
	unsigned n = feed ? feed->npackages : 0;
	const char **layers = calloc(n + 3, sizeof(*layers));
	if (!layers)
		return error_set(err, ENOMEM, "init");
	unsigned k = 0;
	if (files)
		layers[k++] = files;
	for (unsigned i = 0; i < n; i++)
		layers[k++] = feed->packages[n - 1 - i].dir;
	layers[k++] = rootfs;
	int r = elf_arch_check_init(layers, init, ELF_ARCH_BINFMT_DIR, a, err);
	free(layers);
	return r;
}

int arch_record_write(const char *sim, const char *node, const struct elf_arch *a,
		      struct error *err)
{
	char path[4096];
	if (state_node_path(path, sizeof(path), sim, node, "arch") < 0)
		return error_set(err, ENAMETOOLONG, "node %s", node);
	cleanup_fclose FILE *f = fopen(path, "we");
	if (!f)
		return error_set(err, errno, "write %s", path);
	fprintf(f, "%s\t%s\t%s\n", a->name, a->detail, a->native ? "" : a->binfmt);
	int failed = ferror(f);
	FILE *done = steal_pointer(&f);
	if (fclose(done) != 0 || failed)
		return error_set(err, errno ? errno : EIO, "write %s", path);
	return 0;
}

void arch_record_read(const char *sim, const char *node, char *name, size_t len, char *how,
		      size_t how_len)
{
	char path[4096], line[512];
	snprintf(name, len, "-");
	if (how)
		snprintf(how, how_len, "-");
	if (state_node_path(path, sizeof(path), sim, node, "arch") < 0)
		return;
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f || !fgets(line, sizeof(line), f))
		return;
	line[strcspn(line, "\n")] = '\0';
	char *detail = strchr(line, '\t');
	char *binfmt = detail ? strchr(detail + 1, '\t') : NULL;
	if (detail)
		*detail++ = '\0';
	if (binfmt)
		*binfmt++ = '\0';
	snprintf(name, len, "%s", line);
	if (how)
		snprintf(how, how_len, "%s%s%s", detail ? detail : "",
			 binfmt && binfmt[0] ? "; qemu-user via binfmt_misc entry " : "",
			 binfmt && binfmt[0] ? binfmt : "");
}
