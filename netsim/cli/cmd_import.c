/* netsim import: another emulator's topology → a netsim topology on stdout or
 * in a file (-o). */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "topo/import.h"
#include "topo/topo.h"

static int cmd_import(int argc, char **argv, struct error *err)
{
	enum { OPT_IMAGE = OPT_VERB_BASE, OPT_NAMES, OPT_RADIO };
	static const struct option opts[] = {{"help", no_argument, NULL, OPT_HELP},
					      {"output", required_argument, NULL, 'o'},
					      {"image", required_argument, NULL, OPT_IMAGE},
					      {"names", no_argument, NULL, OPT_NAMES},
					      {"radio", no_argument, NULL, OPT_RADIO},
					      {NULL, 0, NULL, 0}};
	const char *output = NULL;
	const char *images[64];
	struct import_options options = {.images = images};
	int c;
	while ((c = verb_getopt(argc, argv, "o:", opts)) != -1) {
		switch (c) {
		case OPT_HELP: return print_help(current_verb);
		case 'o': output = optarg; break;
		case OPT_IMAGE:
			if (!strchr(optarg, '=') || optarg[0] == '=' || !strchr(optarg, '=')[1])
				return verb_usage(err, "--image wants IMAGE=ROOTFS, not '%s'", optarg);
			if (options.nimages == sizeof(images) / sizeof(images[0]))
				return verb_usage(err, "at most %zu --image options",
						  sizeof(images) / sizeof(images[0]));
			images[options.nimages++] = optarg;
			break;
		case OPT_NAMES: options.node_names = true; break;
		case OPT_RADIO: options.radio = true; break;
		default: return verb_bad_option(err);
		}
	}
	char output_dir[PATH_MAX];
	if (output) {
		snprintf(output_dir, sizeof(output_dir), "%s", output);
		options.output_dir = dirname(output_dir);
	}
	if (optind + 2 != argc)
		return verb_usage(err, "expects a FORMAT (meshnet-lab or kathara) and a FILE");
	enum import_format format;
	if (import_format_parse(argv[optind], &format) < 0)
		return verb_usage(err, "unknown format '%s' (meshnet-lab or kathara)", argv[optind]);

	struct import_result res;
	if (import_file_with(format, argv[optind + 1], &options, &res, err) < 0) {
		error_prefix(err, "import");
		return EXIT_FAIL;
	}
	/* The translation must be a topology `netsim up` accepts; check it here so a
	 * mistake in the translator shows up now, not at `up`. */
	struct topo t;
	if (topo_parse_string("import", res.topology, &t, err) < 0) {
		error_prefix(err, "import %s: the translation does not parse (a bug in netsim "
				   "import)", argv[optind + 1]);
		import_result_free(&res);
		return EXIT_FAIL;
	}
	topo_free(&t);
	for (const char *p = res.notes; *p;) {
		size_t len = strcspn(p, "\n");
		fprintf(stderr, "netsim import: %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
	if (output) {
		FILE *f = fopen(output, "we");
		if (!f) {
			int e = errno;
			import_result_free(&res);
			return verb_fail(err, "import: write %s: %s", output, strerror(e));
		}
		fputs(res.topology, f);
		import_result_free(&res);
		return fclose(f) == 0 ? EXIT_OK
				      : verb_fail(err, "import: write %s: %s", output, strerror(errno));
	}
	fputs(res.topology, stdout);
	import_result_free(&res);
	return fflush(stdout) == 0 ? EXIT_OK : verb_fail(err, "import: write the topology: stdout failed");
}

const struct verb verb_import = {"import",
	"import [-o OUT] [--image IMAGE=ROOTFS]... [--names] [--radio] meshnet-lab|kathara FILE",
	"Translate another emulator's topology into a netsim topology file, printed on\n"
	"stdout or written to OUT: `netsim import -o lab/netsim.conf kathara lab`.\n\n"
	"  -o, --output OUT        write the topology to OUT; paths in it (Kathara's\n"
	"                          device directories and startup scripts) are relative\n"
	"                          to OUT's directory.  Without -o they are absolute\n"
	"  --image IMAGE=ROOTFS    run Kathara devices of IMAGE on ROOTFS (a named rootfs\n"
	"                          or a tarball/directory); kathara/base is meshlite and\n"
	"                          kathara/frr is frr without it\n"
	"  --names                 meshnet-lab: name nodes after their \"name\" field\n"
	"                          (made valid, collisions numbered), not their \"id\"\n"
	"  --radio                 meshnet-lab: one radio segment air0 with a `pair`\n"
	"                          line per link (every neighbour hears a node's\n"
	"                          broadcast on one interface, as in meshnet-lab)\n"
	"                          instead of a veth pair per link\n\n"
	"  meshnet-lab FILE.json   {\"nodes\": [{\"id\": ...}], \"links\": [{\"source\": ..,\n"
	"                          \"target\": ..}]}: each pair of nodes linked becomes a\n"
	"                          `link` (the last entry of a pair counts, as in\n"
	"                          meshnet-lab); bandwidth_mbit, latency_ms and loss_pc\n"
	"                          become rate=, delay= and loss= (\"rate\" and\n"
	"                          \"latency\" too); isolated nodes, a graph in parts,\n"
	"                          nodes only in links and repeated ids are noted\n"
	"  kathara lab.conf|DIR    DEVICE[N]=DOMAIN lines: interface N is ethN; a\n"
	"                          collision domain of two devices becomes a `link`, of\n"
	"                          one or of three or more a `segment`; DEVICE/ is the\n"
	"                          node's files=, DEVICE.startup its startup=, its\n"
	"                          image its rootfs= (FRR images: caps=+sys_admin)\n\n"
	"Node names become netsim names ([a-z0-9-], at most 12 characters).  Every\n"
	"renamed name and everything without a netsim equivalent (unmapped images,\n"
	"memory limits, tc commands, positions, ...) is named on stderr as\n"
	"`netsim import: FILE:LINE: not translated: ...` (JSON: FILE:$.links[3].key)\n"
	"and repeated as comments at the top of the output.  Nodes run the meshlite\n"
	"rootfs unless their image says otherwise.  Exit status 0 when a topology was\n"
	"printed (with or without such\n"
	"notes), 1 when the input is malformed.\n", .in_vm = VERB_HERE,
	.run = cmd_import};
