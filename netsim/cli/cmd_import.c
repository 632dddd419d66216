/* netsim import: another emulator's topology → a netsim topology on stdout. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "topo/import.h"
#include "topo/topo.h"

static int cmd_import(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP: return print_help(current_verb);
		default: return verb_usage(err, "unknown option");
		}
	}
	if (optind + 2 != argc)
		return verb_usage(err, "expects a FORMAT (meshnet-lab or kathara) and a FILE");
	enum import_format format;
	if (import_format_parse(argv[optind], &format) < 0)
		return verb_usage(err, "unknown format '%s' (meshnet-lab or kathara)", argv[optind]);

	struct import_result res;
	if (import_file(format, argv[optind + 1], &res, err) < 0) {
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
	fputs(res.topology, stdout);
	import_result_free(&res);
	return fflush(stdout) == 0 ? EXIT_OK : verb_fail(err, "import: write the topology: stdout failed");
}

const struct verb verb_import = {"import", "import meshnet-lab|kathara FILE",
	"Translate another emulator's topology into a netsim topology file, printed on\n"
	"stdout: `netsim import kathara lab.conf > lab.conf.netsim`.\n\n"
	"  meshnet-lab FILE.json   {\"nodes\": [{\"id\": ...}], \"links\": [{\"source\": ..,\n"
	"                          \"target\": ..}]}: each link becomes a `link`; \"rate\"\n"
	"                          and \"latency\" (ms) become rate= and delay=\n"
	"  kathara lab.conf|DIR    DEVICE[N]=DOMAIN lines: interface N is ethN; a\n"
	"                          collision domain of two devices becomes a `link`, of\n"
	"                          three or more a `segment`\n\n"
	"Node names become netsim names ([a-z0-9-], at most 12 characters).  Every\n"
	"renamed name and everything without a netsim equivalent (images, memory\n"
	"limits, tc commands, positions, ...) is named on stderr as\n"
	"`netsim import: FILE:LINE: not translated: ...` (JSON: FILE:$.links[3].key)\n"
	"and repeated as comments at the top of the output.  Nodes run the meshlite\n"
	"rootfs.  Exit status 0 when a topology was printed (with or without such\n"
	"notes), 1 when the input is malformed.\n", .in_vm = VERB_HERE,
	.run = cmd_import};
