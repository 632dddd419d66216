/* quality: the one link-quality grammar (topo/quality.c) and the one NODE[:IF]
 * splitter (topo_split_endpoint), including what hostile input does to them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/quality.h"
#include "topo/topo.h"
#include "tap.h"

static void parse_ok(unsigned flags, const char *text, const char *want)
{
	struct topo_quality q;
	struct error err = {0};
	int r = topo_parse_quality(text, flags, &q, &err);
	is_int(r, 0, "parse \"%s\"", text);
	if (r < 0)
		printf("#   %s\n", err.msg);
	char out[256];
	topo_format_quality(&q, out, sizeof(out));
	is_str(out, want, "  formats back as \"%s\"", want);
}

/* Refused with exactly `want` as the message, and *q untouched. */
static void parse_fails(unsigned flags, const char *text, const char *want)
{
	struct topo_quality q = {.set = TOPO_Q_RATE, .rate_bps = 42};
	struct error err = {0};
	int r = topo_parse_quality(text, flags, &q, &err);
	is_int(r, -EINVAL, "\"%.40s\" is refused", text);
	is_int(err.errnum, EINVAL, "  with EINVAL");
	is_str(err.msg, want, "  message");
	ok(q.set == TOPO_Q_RATE && q.rate_bps == 42, "  the quality is left alone");
}

static void test_grammar(void)
{
	parse_ok(0, "", "");
	parse_ok(0, " \t\n", "");
	parse_ok(0, "rate=4mbit", "rate=4mbit");
	parse_ok(0, "loss=0.5% rate=1.5mbit", "rate=1.5mbit loss=0.5%");
	parse_ok(0, "delay=10ms jitter=1ms reorder=25% duplicate=1%",
		 "delay=10ms jitter=1ms duplicate=1% reorder=25%");
	parse_ok(0, "rate=1mbps", "rate=8mbit");
	parse_ok(0, "delay=0ms loss=0%", "delay=0us loss=0%");

	parse_fails(0, "rate", "`rate` is not an attribute (KEY=VALUE)");
	parse_fails(0, "=4mbit", "`=4mbit` has no attribute name before '='");
	parse_fails(0, "rate=", "rate= has an empty value");
	parse_fails(0, "colour=red",
		    "unknown link attribute `colour` (valid: rate, delay, jitter, loss, duplicate, "
		    "reorder)");
	parse_fails(0, "rate=4xbit",
		    "rate=4xbit: expected a rate such as 54mbit, 500kbit, 1gbit or 10mbps (bytes)");
	parse_fails(0, "delay=5", "delay=5: expected a time such as 5ms, 200us or 1.5s");
	parse_fails(0, "loss=200%",
		    "loss=200% is out of range; use a percentage from 0% to 100%, such as 1% or 0.5%");
	parse_fails(0, "rate=\"4mbit",
		    "rate=\"4mbit: expected a rate such as 54mbit, 500kbit, 1gbit or 10mbps (bytes)");
	parse_fails(0, "rate=4mbit rate=5mbit", "rate= given twice");
	parse_fails(0, "loss=1% loss=1%", "loss= given twice");
	parse_fails(0, "jitter=1ms", "jitter= needs delay= (netem varies the delay by the jitter)");
	parse_fails(0, "delay=0ms reorder=5%",
		    "reorder= needs a delay= above 0 (netem reorders by sending some packets "
		    "without the delay)");
	parse_fails(0, "rate=x colour=red jitter=1ms",
		    "rate=x: expected a rate such as 54mbit, 500kbit, 1gbit or 10mbps (bytes)\n"
		    "unknown link attribute `colour` (valid: rate, delay, jitter, loss, duplicate, "
		    "reorder)\n"
		    "jitter= needs delay= (netem varies the delay by the jitter)");

	/* a change may lean on the link's delay; the merged result is judged later */
	parse_ok(TOPO_QUALITY_CHANGE, "jitter=2ms reorder=5%", "jitter=2ms reorder=5%");
	parse_fails(TOPO_QUALITY_CHANGE, "loss=200%",
		    "loss=200% is out of range; use a percentage from 0% to 100%, such as 1% or 0.5%");
	parse_fails(TOPO_QUALITY_CHANGE, "jitter=2ms jitter=3ms", "jitter= given twice");

	/* the argv form: a word is one attribute, blanks and all */
	char *words[] = {"rate=4 mbit"};
	struct topo_quality q;
	struct error err = {0};
	is_int(topo_parse_quality_argv(words, 1, 0, &q, &err), -EINVAL,
	       "argv: a word with a blank is one (bad) value");
	is_str(err.msg,
	       "rate=4 mbit: expected a rate such as 54mbit, 500kbit, 1gbit or 10mbps (bytes)",
	       "  message");
	is_int(topo_parse_quality_argv(NULL, 0, 0, &q, &err), 0, "argv: no words is no quality");
	is_int(q.set, 0, "  nothing set");
}

static void test_hostile(void)
{
	struct topo_quality q;
	struct error err = {0};

	/* a value of 1 MiB: refused, quoted only in part */
	size_t big = 1u << 20;
	char *text = malloc(big + 16);
	memcpy(text, "delay=", 6);
	memset(text + 6, '9', big);
	strcpy(text + 6 + big, "ms");
	is_int(topo_parse_quality(text, 0, &q, &err), -EINVAL, "a 1 MiB value is refused");
	ok(strlen(err.msg) < 200, "  the message quotes at most 64 bytes of it (%zu)",
	   strlen(err.msg));
	ok(strstr(err.msg, "is out of range") != NULL, "  as out of range: %s", err.msg);

	/* a key of 1 MiB */
	memset(text, 'k', big);
	strcpy(text + big, "=1");
	is_int(topo_parse_quality(text, 0, &q, &err), -EINVAL, "a 1 MiB key is refused");
	ok(strlen(err.msg) < 200 && strstr(err.msg, "unknown link attribute `kkkk") != NULL,
	   "  quoted in part");
	free(text);

	/* numbers past 64 bits */
	const char *overflows[] = {
		"rate=18446744073709551616bit",
		"rate=99999999999999999999999999999999999999tbit",
		"rate=18446744073709551615gbit",
		"delay=18446744073709551616us",
		"delay=99999999999999999999s",
		"jitter=340282366920938463463374607431768211457s",
		"loss=4294967296%",
		"duplicate=99999999999999999999999999999999999999999%",
	};
	for (size_t i = 0; i < sizeof(overflows) / sizeof(overflows[0]); i++) {
		struct topo_quality o = {0};
		int r = topo_parse_quality(overflows[i], TOPO_QUALITY_CHANGE, &o, &err);
		is_int(r, -EINVAL, "overflow %s is refused", overflows[i]);
		ok(o.set == 0, "  and sets nothing");
	}
	/* below the ppm resolution: never above 100% */
	is_int(topo_parse_quality("loss=100.0000001%", 0, &q, &err) < 0 || q.loss_ppm <= 1000000, 1,
	       "loss a hair above 100%% is refused or 100%%");
	/* many decimals: exact or refused, never wrapped */
	is_int(topo_parse_quality("delay=1.00000000000000000000000000001ms", 0, &q, &err) < 0 ||
		       q.delay_us == 1000,
	       1, "a long fraction does not wrap");

	/* every attribute twice, and thousands of bad words: every error counted,
	 * the message stays in its buffer */
	is_int(topo_parse_quality("rate=1mbit delay=1ms jitter=1ms loss=1% duplicate=1% "
				  "reorder=1% rate=1mbit delay=1ms jitter=1ms loss=1% "
				  "duplicate=1% reorder=1%",
				  0, &q, &err),
	       -EINVAL, "every attribute twice");
	ok(strstr(err.msg, "rate= given twice\ndelay= given twice") != NULL &&
		   strstr(err.msg, "reorder= given twice") != NULL,
	   "  each reported");
	size_t n = 5000;
	char *many = malloc(n * 8 + 1);
	many[0] = '\0';
	for (size_t i = 0; i < n; i++)
		strcat(many, "bogus=1 ");
	is_int(topo_parse_quality(many, 0, &q, &err), -EINVAL, "%zu bad words", n);
	ok(strlen(err.msg) < sizeof(err.msg), "  the message fits (%zu bytes)", strlen(err.msg));
	ok(strstr(err.msg, "more errors") != NULL, "  the rest is counted: %s",
	   strrchr(err.msg, '\n') ? strrchr(err.msg, '\n') + 1 : err.msg);
	free(many);

	parse_fails(0, "=", "`=` has no attribute name before '='");
	parse_fails(0, "==", "`==` has no attribute name before '='");
	parse_fails(0, "rate==4mbit",
		    "rate==4mbit: expected a rate such as 54mbit, 500kbit, 1gbit or 10mbps (bytes)");
	parse_fails(0, "rate=-4mbit",
		    "rate=-4mbit: expected a rate such as 54mbit, 500kbit, 1gbit or 10mbps (bytes)");
	parse_fails(0, "loss=%", "loss=%: expected a percentage from 0% to 100%, such as 1% or 0.5%");
	parse_fails(0, "RATE=4mbit",
		    "unknown link attribute `RATE` (valid: rate, delay, jitter, loss, duplicate, "
		    "reorder)");
}

static void test_helpers(void)
{
	struct topo_quality change = {.set = TOPO_Q_JITTER | TOPO_Q_REORDER, .jitter_us = 2000,
				      .reorder_ppm = 50000};
	struct topo_quality base = {.set = TOPO_Q_RATE | TOPO_Q_DELAY, .rate_bps = 1000000,
				    .delay_us = 5000};
	topo_merge_quality(&base, &change);
	char out[256];
	topo_format_quality(&base, out, sizeof(out));
	is_str(out, "rate=1mbit delay=5ms jitter=2ms reorder=5%", "merge keeps what is not changed");
	topo_clear_quality(&base, TOPO_Q_RATE | TOPO_Q_REORDER);
	topo_format_quality(&base, out, sizeof(out));
	is_str(out, "delay=5ms jitter=2ms", "clear drops the given attributes");
	ok(base.rate_bps == 0 && base.reorder_ppm == 0, "  ...and their values");
	topo_format_quality(&base, out, 8);
	is_str(out, "delay=5", "format into a buffer too small: cut like snprintf");

	is_int(topo_quality_bit("rate"), TOPO_Q_RATE, "attribute bit: rate");
	is_int(topo_quality_bit("reorder"), TOPO_Q_REORDER, "attribute bit: reorder");
	is_int(topo_quality_bit("corrupt"), 0, "attribute bit: unknown is 0");
	is_int(topo_quality_bit("rat"), 0, "attribute bit: a prefix is unknown");
	is_int(topo_quality_bit(""), 0, "attribute bit: empty is unknown");
}

static void split_ok(unsigned flags, const char *text, const char *node, const char *ifname)
{
	char n[TOPO_NAME_MAX + 1], i[IFNAMSIZ];
	struct error err = {0};
	int r = topo_split_endpoint(text, flags, n, i, &err);
	is_int(r, 0, "split \"%s\"", text);
	if (r < 0)
		printf("#   %s\n", err.msg);
	is_str(n, node, "  node %s", node);
	is_str(i, ifname, "  interface \"%s\"", ifname);
}

static void split_fails(unsigned flags, const char *text, const char *want)
{
	char n[TOPO_NAME_MAX + 1], i[IFNAMSIZ];
	struct error err = {0};
	is_int(topo_split_endpoint(text, flags, n, i, &err), -EINVAL, "\"%.40s\" is refused", text);
	is_str(err.msg, want, "  message");
	ok(n[0] == '\0' && i[0] == '\0', "  nothing split out");
}

#define BAD_NODE(x) "`" x "` is not a valid node name ([a-z0-9-], 1 to 12 characters, not starting with '-')"
#define BAD_IF(x) "`" x "` is not a valid interface name (1 to 15 characters, no '/', ':', '%' or blanks)"
#define BAD_NEW_IF(x) "`" x "` is not a valid interface name (1 to 15 characters, no '/', ':', '%' or blanks, not lo)"

static void test_endpoint(void)
{
	split_ok(0, "n1", "n1", "");
	split_ok(0, "n1:eth0", "n1", "eth0");
	split_ok(0, "n1:wan+1", "n1", "wan+1"); /* the kernel takes it: so do we, everywhere */
	split_ok(0, "n1:br@x.5", "n1", "br@x.5");
	split_ok(0, "n1:WAN_1", "n1", "WAN_1");
	split_ok(0, "n1:lo", "n1", "lo");
	split_ok(TOPO_IFNAME_CREATE, "n1:wan+1", "n1", "wan+1");
	split_ok(0, "abcdefghijkl:abcdefghijklmno", "abcdefghijkl", "abcdefghijklmno");

	split_fails(0, "N1", BAD_NODE("N1"));
	split_fails(0, ":eth0", BAD_NODE(""));
	split_fails(0, "", BAD_NODE(""));
	split_fails(0, "-n:eth0", BAD_NODE("-n"));
	split_fails(0, "abcdefghijklm:eth0", BAD_NODE("abcdefghijklm"));
	split_fails(0, "n1:", BAD_IF(""));
	split_fails(0, "n1:eth/0", BAD_IF("eth/0"));
	split_fails(0, "n1:a:b", BAD_IF("a:b"));
	split_fails(0, "n1:a b", BAD_IF("a b"));
	split_fails(0, "n1:a\tb", BAD_IF("a\tb"));
	split_fails(0, "n1:eth%d", BAD_IF("eth%d"));
	split_fails(0, "n1:.", BAD_IF("."));
	split_fails(0, "n1:..", BAD_IF(".."));
	split_fails(0, "n1:abcdefghijklmnop", BAD_IF("abcdefghijklmnop"));
	split_fails(TOPO_IFNAME_CREATE, "n1:lo", BAD_NEW_IF("lo"));
	split_ok(TOPO_IFNAME_CREATE, "n1:lo0", "n1", "lo0");

	/* hostile: 1 MiB on either side of the colon */
	size_t big = 1u << 20;
	char *text = malloc(big + 8);
	memset(text, 'a', big);
	strcpy(text + big, ":eth0");
	char n[TOPO_NAME_MAX + 1], i[IFNAMSIZ];
	struct error err = {0};
	is_int(topo_split_endpoint(text, 0, n, i, &err), -EINVAL, "a 1 MiB node name is refused");
	ok(strlen(err.msg) < 200, "  quoted in part (%zu bytes)", strlen(err.msg));
	strcpy(text, "n1:");
	memset(text + 3, 'e', big);
	text[3 + big] = '\0';
	is_int(topo_split_endpoint(text, 0, n, i, &err), -EINVAL,
	       "a 1 MiB interface name is refused");
	ok(strlen(err.msg) < 200, "  quoted in part (%zu bytes)", strlen(err.msg));
	free(text);

	ok(topo_valid_ifname("eth0", 0) && topo_valid_ifname("wan+1", TOPO_IFNAME_CREATE),
	   "valid_ifname: eth0, wan+1");
	ok(!topo_valid_ifname("lo", TOPO_IFNAME_CREATE) && topo_valid_ifname("lo", 0),
	   "valid_ifname: lo only where netsim does not create it");
}

/* The three users agree: what a topology file takes, a scenario and a
 * `link ... set` take (the last two through the same functions). */
static void test_topology_uses_it(void)
{
	struct topo t;
	struct error err = {0};
	int r = topo_parse_string("q.conf", "node a\nnode b\nlink a:wan+1 b rate=4mbit delay=5ms\n",
				  &t, &err);
	is_int(r, 0, "a topology takes a:wan+1 and the quality");
	if (r == 0) {
		is_str(t.links[0].a.ifname, "wan+1", "  the interface");
		char out[128];
		topo_format_quality(&t.links[0].quality, out, sizeof(out));
		is_str(out, "rate=4mbit delay=5ms", "  the quality");
		topo_free(&t);
	}
	r = topo_parse_string("q.conf", "node a\nnode b\nlink a b rate= jitter=1ms rate=x\n", &t,
			      &err);
	is_int(r, -EINVAL, "a topology's bad quality");
	is_str(err.msg,
	       "q.conf:3: rate= has an empty value\n"
	       "q.conf:3: rate=x: expected a rate such as 54mbit, 500kbit, 1gbit or 10mbps (bytes)\n"
	       "q.conf:3: jitter= needs delay= (netem varies the delay by the jitter)",
	       "  every error, with FILE:LINE");
}

int main(void)
{
	test_grammar();
	test_hostile();
	test_helpers();
	test_endpoint();
	test_topology_uses_it();
	return tap_done();
}
