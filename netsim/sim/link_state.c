/* The quality a running sim's links have now (sim/link_state.h). */
#include "sim/link_state.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "net/shape.h"
#include "sim/state.h"
#include "topo/quality.h"

int link_state_load(const char *sim, const char *name, const struct topo_quality *topology,
		    struct topo_quality *q, struct error *err)
{
	char path[PATH_MAX], line[1024];
	if (state_link_path(path, sizeof(path), sim, name) < 0)
		return error_set(err, ENAMETOOLONG, "link %s", name);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f) {
		if (errno != ENOENT)
			return error_set(err, errno, "read %s", path);
		*q = *topology;
		return 0;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	int r = topo_parse_quality(line, 0, q, err);
	if (r < 0)
		return error_prefix(err, "%s", path);
	return 0;
}

void link_state_text(const char *sim, const struct topo *t, bool segment, unsigned index,
		     char *buf, size_t len)
{
	char name[128];
	struct topo_quality q;
	struct error err;
	const struct topo_quality *topology =
		segment ? &t->segments[index].quality : &t->links[index].quality;
	if (segment)
		shape_segment_name(t, index, name, sizeof(name));
	else
		shape_link_name(t, index, name, sizeof(name));
	if (link_state_load(sim, name, topology, &q, &err) < 0)
		snprintf(buf, len, "?");
	else
		topo_format_quality(&q, buf, len);
}

int link_state_save(const char *sim, const char *name, const struct topo_quality *q,
		    struct error *err)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 8], text[512];
	if (state_link_path(dir, sizeof(dir), sim, NULL) < 0 ||
	    state_link_path(path, sizeof(path), sim, name) < 0)
		return error_set(err, ENAMETOOLONG, "link %s", name);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "create %s", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	topo_format_quality(q, text, sizeof(text));
	FILE *f = fopen(tmp, "we");
	if (!f)
		return error_set(err, errno, "write %s", tmp);
	fprintf(f, "%s\n", text);
	if (fclose(f) != 0) {
		int e = errno;
		unlink(tmp);
		return error_set(err, e, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return error_set(err, e, "rename %s", tmp);
	}
	return 0;
}
