/* Translating other emulators' topologies into netsim topology files:
 * meshnet-lab's JSON ({"nodes":[{"id":..}], "links":[{"source":..,"target":..}]})
 * and Kathara's lab.conf (DEVICE[N]=DOMAIN lines).  Nothing is dropped silently:
 * every name that had to change and every field with no netsim equivalent is
 * listed in the result's notes (and as comments in the topology text). */
#ifndef NETSIM_IMPORT_H
#define NETSIM_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum import_format { IMPORT_MESHNET_LAB, IMPORT_KATHARA };

struct import_result {
	char *topology;   /* the netsim topology file */
	char *notes;      /* one line each: "WHERE: not translated: WHAT" or
			     "WHERE: node `RAW` is named `name` (...)"; "" when none */
	unsigned nnotes;
};

/* Choices of a translation; all optional (NULL: the defaults). */
struct import_options {
	/* Where the topology will be written: paths in it (Kathara's device
	 * directories and startup scripts) are made relative to this directory.
	 * NULL: absolute paths (the output goes to stdout, to be saved anywhere). */
	const char *output_dir;
	/* Kathara images → rootfs: "IMAGE=ROOTFS" each (a named rootfs such as
	 * meshlite, or a tarball/directory path, relative to the current directory),
	 * tried before the built-in kathara/base → meshlite, kathara/frr → frr. */
	const char *const *images;
	size_t nimages;
	/* meshnet-lab: name nodes after their "name" field (made valid netsim names,
	 * collisions numbered and noted) instead of their "id". */
	bool node_names;
	/* meshnet-lab: one radio segment with a pair line per link (the nodes on a
	 * grid too far apart to hear each other otherwise) instead of a veth per link. */
	bool radio;
};

/* "meshnet-lab" or "kathara" → the format; -EINVAL for anything else. */
int import_format_parse(const char *name, enum import_format *format);

/* Translate `text` (the contents of `path`; `path` names it in notes and errors
 * and, for Kathara, locates the device directories next to lab.conf).
 * Malformed input: -EINVAL with "PATH:LINE: ..." (or "PATH:$.json.path: ...") in
 * err, and *res left empty. */
int import_text(enum import_format format, const char *path, const char *text,
		size_t len, struct import_result *res, struct error *err);

/* Same, reading the file; for Kathara `path` may also be the lab directory. */
int import_file(enum import_format format, const char *path, struct import_result *res,
		struct error *err);

/* import_text / import_file with options. */
int import_text_with(enum import_format format, const char *path, const char *text, size_t len,
		     const struct import_options *opts, struct import_result *res,
		     struct error *err);
int import_file_with(enum import_format format, const char *path,
		     const struct import_options *opts, struct import_result *res,
		     struct error *err);

void import_result_free(struct import_result *res);

/* A foreign name as a netsim name: lower case, [a-z0-9-] (runs of anything else
 * become one '-'), no leading or trailing '-', at most `max` characters, "n" when
 * nothing is left.  Returns true when the result differs from `raw`. */
bool import_map_name(const char *raw, unsigned max, char *out, size_t outlen);

#endif
