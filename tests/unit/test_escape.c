/* netsim/cli/cli.c's escaping of node-written text (docs/security.md, "Output from a
 * node reaching the operator's terminal"). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tap.h"


/* Escape `len` bytes given in `chunk`-sized writes; returns a malloc'd string. */
static char *escaped(const char *in, size_t len, size_t chunk)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct escaper e = ESCAPER_INIT;
	for (size_t off = 0; off < len; off += chunk)
		escape_write(&e, f, in + off, len - off < chunk ? len - off : chunk);
	escape_finish(&e, f);
	fclose(f);
	return buf;
}

static void check(const char *in, size_t len, const char *want, const char *what)
{
	/* byte by byte, in pairs and threes (sequences split between writes), whole */
	const size_t chunks[] = { 1, 2, 3, len };
	for (size_t i = 0; i < 4; i++) {
		char *got = escaped(in, len, chunks[i]);
		is_str(got, want, "%s (writes of %zu)", what, chunks[i]);
		free(got);
	}
}

#define CHECK(in, want, what) check(in, sizeof(in) - 1, want, what)

int main(void)
{
	CHECK("plain text\twith tab\n", "plain text\twith tab\n", "printable ASCII, tab, newline pass");
	CHECK("\033]0;owned\007", "\\033]0;owned\\007", "ESC and BEL are escaped");
	CHECK("a\rb\bc\177", "a\\015b\\010c\\177", "CR, backspace and DEL are escaped");
	CHECK("caf\303\251 \342\202\254 \360\237\230\200", "caf\303\251 \342\202\254 \360\237\230\200",
	      "well-formed UTF-8 passes (2, 3 and 4 bytes)");
	CHECK("\302\233" "2J", "\\302\\2332J", "the C1 CSI (U+009B) is escaped");
	CHECK("\302\240", "\302\240", "U+00A0 is not a control and passes");
	CHECK("\300\257", "\\300\\257", "an overlong '/' is escaped");
	CHECK("\355\240\200", "\\355\\240\\200", "a UTF-16 surrogate is escaped");
	CHECK("\364\220\200\200", "\\364\\220\\200\\200", "above U+10FFFF is escaped");
	CHECK("\303x", "\\303x", "a broken sequence is escaped, the next byte kept");
	CHECK("end\342\202", "end\\342\\202", "a sequence cut at the end is escaped by escape_finish");
	CHECK("\\033", "\\033", "a backslash passes as it is");
	{
		char *buf = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&buf, &size);
		print_escaped(f, "x\033[31my");
		fclose(f);
		is_str(buf, "x\\033[31my", "print_escaped escapes a whole string");
		free(buf);
	}
	tap_plan_done();
	return tap_failed ? 1 : 0;
}
