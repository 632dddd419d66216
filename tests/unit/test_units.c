/* units: the one parser for rates, times and percentages, and formatting back. */
#include <errno.h>
#include <stdint.h>

#include "tap.h"
#include "topo/units.h"

static void rate_is(const char *text, int want_ret, uint64_t want)
{
	uint64_t got = 12345;
	int ret = units_parse_rate(text, &got);
	is_int(ret, want_ret, "rate \"%s\" returns %d", text, want_ret);
	if (want_ret == 0)
		is_int(got, want, "rate \"%s\" = %llu bit/s", text, (unsigned long long)want);
	else
		is_int(got, 12345, "rate \"%s\" leaves the output alone", text);
}

static void time_is(const char *text, int want_ret, uint64_t want)
{
	uint64_t got = 12345;
	int ret = units_parse_time(text, &got);
	is_int(ret, want_ret, "time \"%s\" returns %d", text, want_ret);
	if (want_ret == 0)
		is_int(got, want, "time \"%s\" = %llu us", text, (unsigned long long)want);
}

static void percent_is(const char *text, int want_ret, uint32_t want)
{
	uint32_t got = 12345;
	int ret = units_parse_percent(text, &got);
	is_int(ret, want_ret, "percent \"%s\" returns %d", text, want_ret);
	if (want_ret == 0)
		is_int(got, want, "percent \"%s\" = %u ppm", text, want);
}

static void rate_formats(uint64_t bps, const char *want)
{
	char buf[64];
	uint64_t back = 0;
	units_format_rate(bps, buf, sizeof(buf));
	is_str(buf, want, "format rate %llu", (unsigned long long)bps);
	is_int(units_parse_rate(buf, &back), 0, "formatted rate %s parses", buf);
	is_int(back, bps, "formatted rate %s round-trips", buf);
}

static void time_formats(uint64_t usec, const char *want)
{
	char buf[64];
	uint64_t back = 1;
	units_format_time(usec, buf, sizeof(buf));
	is_str(buf, want, "format time %llu", (unsigned long long)usec);
	is_int(units_parse_time(buf, &back), 0, "formatted time %s parses", buf);
	is_int(back, usec, "formatted time %s round-trips", buf);
}

static void percent_formats(uint32_t ppm, const char *want)
{
	char buf[64];
	uint32_t back = 1;
	units_format_percent(ppm, buf, sizeof(buf));
	is_str(buf, want, "format percent %u", ppm);
	is_int(units_parse_percent(buf, &back), 0, "formatted percent %s parses", buf);
	is_int(back, ppm, "formatted percent %s round-trips", buf);
}

int main(void)
{
	/* rates: tc units, SI multiples */
	rate_is("100bit", 0, 100);
	rate_is("500kbit", 0, 500000);
	rate_is("10mbit", 0, 10000000);
	rate_is("1gbit", 0, 1000000000);
	rate_is("1tbit", 0, 1000000000000ULL);
	rate_is("10Mbit", 0, 10000000);      /* case-insensitive like tc */
	/* byte rates ×8 */
	rate_is("1bps", 0, 8);
	rate_is("1kbps", 0, 8000);
	rate_is("10mbps", 0, 80000000);
	rate_is("1gbps", 0, 8000000000ULL);
	/* a bare number is bit/s */
	rate_is("10", 0, 10);
	/* fractions, exact */
	rate_is("1.5mbit", 0, 1500000);
	rate_is("1.1mbit", 0, 1100000);
	rate_is("0.001kbit", 0, 1);
	rate_is(".5kbit", 0, 500);
	/* zero refused */
	rate_is("0", -EINVAL, 0);
	rate_is("0mbit", -EINVAL, 0);
	rate_is("0.0001bit", -EINVAL, 0);    /* rounds to 0 */
	/* malformed */
	rate_is("", -EINVAL, 0);
	rate_is("10 mbit", -EINVAL, 0);
	rate_is("-1mbit", -EINVAL, 0);
	rate_is("+1mbit", -EINVAL, 0);
	rate_is("1e3mbit", -EINVAL, 0);
	rate_is("10mbitx", -EINVAL, 0);
	rate_is("mbit", -EINVAL, 0);
	rate_is("5.mbit", -EINVAL, 0);
	rate_is("1.2.3mbit", -EINVAL, 0);
	rate_is(" 10mbit", -EINVAL, 0);
	rate_is("10mbit ", -EINVAL, 0);
	rate_is("10kibit", -EINVAL, 0);
	/* overflow */
	rate_is("99999999999999999999gbit", -ERANGE, 0);
	rate_is("18446744073709551615", 0, UINT64_MAX);
	rate_is("18446744073709551616", -ERANGE, 0);
	rate_is("18446744073709552tbit", -ERANGE, 0);
	rate_is("123456789012345678901234567890bit", -ERANGE, 0);
	rate_is("0000000000000000000000000001bit", 0, 1); /* leading zeros are not digits of size */
	{
		uint64_t v;
		is_int(units_parse_rate(NULL, &v), -EINVAL, "rate NULL is -EINVAL");
	}

	/* times: unit required */
	time_is("1.5ms", 0, 1500);
	time_is("5ms", 0, 5000);
	time_is("200us", 0, 200);
	time_is("2s", 0, 2000000);
	time_is("1.5s", 0, 1500000);
	time_is("0ms", 0, 0);
	time_is("0s", 0, 0);
	time_is("0.0005ms", 0, 1);           /* rounds to nearest us */
	time_is("0.0004ms", 0, 0);
	time_is("0", -EINVAL, 0);
	time_is("10", -EINVAL, 0);
	time_is("", -EINVAL, 0);
	time_is("ms", -EINVAL, 0);
	time_is("-1ms", -EINVAL, 0);
	time_is("5 ms", -EINVAL, 0);
	time_is("5min", -EINVAL, 0);
	time_is("5msx", -EINVAL, 0);
	time_is("99999999999999999999s", -ERANGE, 0);

	/* percents: % required, 0..100, fractions to ppm */
	percent_is("1%", 0, 10000);
	percent_is("0.5%", 0, 5000);
	percent_is(".5%", 0, 5000);
	percent_is("100%", 0, 1000000);
	percent_is("0%", 0, 0);
	percent_is("0.0001%", 0, 1);
	percent_is("100.1%", -ERANGE, 0);
	percent_is("101%", -ERANGE, 0);
	percent_is("5", -EINVAL, 0);
	percent_is("", -EINVAL, 0);
	percent_is("%", -EINVAL, 0);
	percent_is("-1%", -EINVAL, 0);
	percent_is("5 %", -EINVAL, 0);
	percent_is("5%%", -EINVAL, 0);
	percent_is("99999999999999999999%", -ERANGE, 0);

	/* formatting: the largest unit reached, the fewest decimals that stay exact */
	rate_formats(10000000, "10mbit");
	rate_formats(54000000, "54mbit");
	rate_formats(1500000, "1.5mbit");
	rate_formats(999, "999bit");
	rate_formats(1000, "1kbit");
	rate_formats(1000000000, "1gbit");
	rate_formats(8000000000000ULL, "8tbit");
	rate_formats(123456789, "123.456789mbit");
	rate_formats(1000000000001ULL, "1.000000000001tbit");
	rate_formats(UINT64_MAX, "18446744.073709551615tbit");
	time_formats(1500, "1.5ms");
	time_formats(20000, "20ms");
	time_formats(999, "999us");
	time_formats(1, "1us");
	time_formats(2000000, "2s");
	time_formats(1500000, "1.5s");
	time_formats(0, "0us");
	percent_formats(10000, "1%");
	percent_formats(5000, "0.5%");
	percent_formats(1, "0.0001%");
	percent_formats(1000000, "100%");
	percent_formats(0, "0%");
	{
		char small[4];
		units_format_rate(10000000, small, sizeof(small));
		is_str(small, "10m", "formatting truncates to the buffer");
	}
	return tap_done();
}
