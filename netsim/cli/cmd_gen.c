/* netsim gen: topology files of common shapes. */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "topo/gen.h"
#include "topo/units.h"
#include "util.h"

enum { OPT_SEED = OPT_VERB_BASE, OPT_DEGREE, OPT_RATE, OPT_DELAY, OPT_LOSS };

static int cmd_gen(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"seed", required_argument, NULL, OPT_SEED},
					      {"degree", required_argument, NULL, OPT_DEGREE},
					      {"rate", required_argument, NULL, OPT_RATE},
					      {"delay", required_argument, NULL, OPT_DELAY},
					      {"loss", required_argument, NULL, OPT_LOSS},
					      {"sim", required_argument, NULL, 's'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	struct gen_options o = {0};
	const char *seed_arg = NULL, *degree_arg = NULL;
	int c;
	while ((c = verb_getopt(argc, argv, "s:", opts)) != -1) {
		int r = 0;
		switch (c) {
		case OPT_SEED: seed_arg = optarg; break;
		case OPT_DEGREE: degree_arg = optarg; break;
		case OPT_RATE:
			r = units_parse_rate(optarg, &o.quality.rate_bps);
			if (r < 0)
				return verb_usage(err, "--rate %s: %s (a rate: 10mbit, 1.5mbit, 100kbit, "
						  "1mbps)", optarg, strerror(-r));
			o.quality.set |= TOPO_Q_RATE;
			break;
		case OPT_DELAY:
			r = units_parse_time(optarg, &o.quality.delay_us);
			if (r < 0)
				return verb_usage(err, "--delay %s: %s (a time: 5ms, 200us, 1.5s)",
						  optarg, strerror(-r));
			o.quality.set |= TOPO_Q_DELAY;
			break;
		case OPT_LOSS:
			r = units_parse_percent(optarg, &o.quality.loss_ppm);
			if (r < 0)
				return verb_usage(err, "--loss %s: %s (a percentage: 1%%, 0.5%%)",
						  optarg, strerror(-r));
			o.quality.set |= TOPO_Q_LOSS;
			break;
		case 's':
			if (strlen(optarg) >= sizeof(o.sim) ||
			    !topo_valid_name(optarg, TOPO_SIM_MAX))
				return verb_usage(err, "--sim %s: a sim name is [a-z0-9-], 1 to %d "
						  "characters, not starting with '-'",
						  optarg, TOPO_SIM_MAX);
			snprintf(o.sim, sizeof(o.sim), "%s", optarg);
			break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (argc - optind != 2)
		return verb_usage(err, "expects SHAPE and SIZE (e.g. `ring 6`, `grid 3x3`)");
	if (gen_shape_parse(argv[optind], &o.shape) < 0)
		return verb_usage(err, "unknown shape `%s` (line, ring, star, grid, tree, random, geo)",
				  argv[optind]);
	bool random = o.shape == GEN_RANDOM || o.shape == GEN_GEO;
	if (!random && (seed_arg || degree_arg))
		return verb_usage(err, "--seed and --degree apply to `random` and `geo` only");
	if (gen_size_parse(&o, argv[optind + 1], err) < 0)
		return verb_usage(err, "%s", err->msg);
	if (degree_arg && gen_degree_parse(degree_arg, &o.degree_x100, err) < 0)
		return verb_usage(err, "%s", err->msg);
	if (seed_arg) {
		unsigned long long seed;
		if (parse_unsigned(seed_arg, 0, UINT64_MAX, &seed) < 0)
			return verb_usage(err, "--seed %s: expected a number from 0 to %" PRIu64,
					  seed_arg, UINT64_MAX);
		o.seed = seed;
	} else if (random) {
		/* A fresh seed, small enough to retype: the header shows it. */
		uint32_t s;
		if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s))
			s = (uint32_t)time(NULL) ^ (uint32_t)getpid();
		o.seed = s;
	}
	if (gen_validate(&o, err) < 0)
		return verb_usage(err, "%s", err->msg);
	if (gen_write(stdout, &o, err) < 0)
		return EXIT_FAIL;
	return 0;
}

const struct verb verb_gen = {"gen",
	"gen line|ring|star|grid|tree|random|geo SIZE [--seed S] [--degree D] [--rate R] "
	"[--delay T] [--loss P] [--sim NAME]",
	"Print a topology file of nodes n1..nN; its first line is the command that\n"
	"makes it again.\n\n"
	"  line N        n1 - n2 - ... - nN\n"
	"  ring N        a line closed from nN back to n1 (N >= 3)\n"
	"  star N        n1 is the hub, linked to each of n2..nN\n"
	"  grid R[xC]    R rows of C nodes (grid 3 is 3x3), each linked to its right\n"
	"                and lower neighbour; row r, column c (from 0) is n(r*C+c+1)\n"
	"  tree N        binary tree: node i's parent is n(i/2), n1 the root\n"
	"  random N      connected: a random spanning tree, then links between random\n"
	"                unlinked pairs up to an average degree D (N at most 4096)\n"
	"  geo N         random geometric: N nodes at random positions (pos=) on one\n"
	"                radio segment air0 (medium=radio, the default model), in a\n"
	"                square sized for D neighbours with an SNR of 8 dB or more on\n"
	"                average, placed again until those connect every node\n\n"
	"  --seed S      random, geo: the seed (default: a fresh one, shown in the\n"
	"                header); the same seed gives the same file everywhere (geo:\n"
	"                also the medium's seed=)\n"
	"  --degree D    random: average links per node, e.g. 3 or 2.5 (default 3, or\n"
	"                N-1 when smaller; at most N-1; below 2(N-1)/N the result\n"
	"                is just the spanning tree); geo: average good neighbours\n"
	"  --rate R, --delay T, --loss P\n"
	"                link quality for every link (docs/topology.md, units); geo:\n"
	"                of the radio segment (rate= is the channel's capacity)\n"
	"  -s, --sim NAME  add a `sim NAME` line (default: named after the file)\n\n"
	"    netsim gen ring 6 > ring6.conf && netsim up ring6.conf\n", .in_vm = VERB_HERE,
	.run = cmd_gen};
