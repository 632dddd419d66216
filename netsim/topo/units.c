/* The one parser for rates, times and percentages.  Numbers are read as exact
 * decimals (no floating point), so "1.1mbit" is exactly 1100000 bit/s and a value
 * that parses always formats back to the same quantity. */
#include "topo/units.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct unit {
	const char *suffix;
	uint64_t multiplier;
};

/* Fraction digits beyond this are dropped: they are below every unit's resolution
 * (the smallest step any unit here has is 1e-12 of a tbit or 1e-6 of a percent). */
#define FRACTION_DIGITS_MAX 18

static const uint64_t pow10_table[FRACTION_DIGITS_MAX + 1] = {
	1ULL,
	10ULL,
	100ULL,
	1000ULL,
	10000ULL,
	100000ULL,
	1000000ULL,
	10000000ULL,
	100000000ULL,
	1000000000ULL,
	10000000000ULL,
	100000000000ULL,
	1000000000000ULL,
	10000000000000ULL,
	100000000000000ULL,
	1000000000000000ULL,
	10000000000000000ULL,
	100000000000000000ULL,
	1000000000000000000ULL,
};

/* Read "DIGITS[.DIGITS]" or ".DIGITS" from s.  *mantissa/10^*scale is the number;
 * *end points after it.  Integer parts above 20 significant digits cannot fit a
 * uint64 in any unit, so they are -ERANGE right away. */
static int parse_decimal(const char *s, unsigned __int128 *mantissa, unsigned *scale,
			 const char **end)
{
	unsigned __int128 m = 0;
	unsigned significant = 0, fraction_digits = 0, digits = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (m == 0 && *p == '0')
			continue;
		if (++significant > 20)
			return -ERANGE;
		m = m * 10 + (unsigned)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return -EINVAL; /* "5." and "." are typos, not numbers */
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			if (fraction_digits == FRACTION_DIGITS_MAX)
				continue;
			m = m * 10 + (unsigned)(*p - '0');
			fraction_digits++;
		}
	}
	if (digits == 0)
		return -EINVAL;
	*mantissa = m;
	*scale = fraction_digits;
	*end = p;
	return 0;
}

/* number × multiplier, rounded to the nearest integer. */
static int scale_to_u64(unsigned __int128 mantissa, unsigned scale, uint64_t multiplier,
			uint64_t *out)
{
	/* mantissa < 10^38 and multiplier <= 10^12 could overflow 128 bits, so reduce
	 * first when that is possible without losing precision. */
	uint64_t divisor = pow10_table[scale];
	while (divisor > 1 && multiplier % 10 == 0) {
		multiplier /= 10;
		divisor /= 10;
	}
	if (mantissa != 0 && multiplier > ((unsigned __int128)-1) / mantissa)
		return -ERANGE;
	unsigned __int128 product = mantissa * multiplier;
	unsigned __int128 quotient = product / divisor;
	if (product % divisor >= (divisor + 1) / 2)
		quotient++;
	if (quotient > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)quotient;
	return 0;
}

static int parse_with_units(const char *s, const struct unit *units, size_t nunits,
			    int unit_required, uint64_t *out)
{
	unsigned __int128 mantissa;
	unsigned scale;
	const char *end;

	if (!s)
		return -EINVAL;
	int ret = parse_decimal(s, &mantissa, &scale, &end);
	if (ret < 0)
		return ret;
	if (*end == '\0') {
		if (unit_required)
			return -EINVAL;
		return scale_to_u64(mantissa, scale, 1, out);
	}
	for (size_t i = 0; i < nunits; i++)
		if (strcasecmp(end, units[i].suffix) == 0)
			return scale_to_u64(mantissa, scale, units[i].multiplier, out);
	return -EINVAL;
}

static const struct unit rate_units[] = {
	{ "bit", 1ULL },
	{ "kbit", 1000ULL },
	{ "mbit", 1000000ULL },
	{ "gbit", 1000000000ULL },
	{ "tbit", 1000000000000ULL },
	{ "bps", 8ULL },
	{ "kbps", 8000ULL },
	{ "mbps", 8000000ULL },
	{ "gbps", 8000000000ULL },
	{ "tbps", 8000000000000ULL },
};

static const struct unit time_units[] = {
	{ "us", 1ULL },
	{ "ms", 1000ULL },
	{ "s", 1000000ULL },
};

int units_parse_rate(const char *s, uint64_t *bits_per_sec)
{
	uint64_t v;
	int ret = parse_with_units(s, rate_units, sizeof(rate_units) / sizeof(rate_units[0]),
				   0, &v);
	if (ret < 0)
		return ret;
	if (v == 0)
		return -EINVAL; /* a zero rate would stop the link, which is `link down` */
	*bits_per_sec = v;
	return 0;
}

int units_parse_time(const char *s, uint64_t *usec)
{
	return parse_with_units(s, time_units, sizeof(time_units) / sizeof(time_units[0]), 1,
				usec);
}

int units_parse_percent(const char *s, uint32_t *ppm)
{
	static const struct unit percent_unit[] = { { "%", 10000ULL } };
	uint64_t v;
	int ret = parse_with_units(s, percent_unit, 1, 1, &v);
	if (ret < 0)
		return ret;
	if (v > 1000000)
		return -ERANGE;
	*ppm = (uint32_t)v;
	return 0;
}

/* Print value/divisor with the fewest decimals that keep it exact, then suffix. */
static void format_exact(uint64_t value, uint64_t divisor, const char *suffix, char *buf,
			 unsigned len)
{
	uint64_t whole = value / divisor, rest = value % divisor;
	if (rest == 0) {
		snprintf(buf, len, "%llu%s", (unsigned long long)whole, suffix);
		return;
	}
	/* rest/divisor as decimal digits, trailing zeros dropped */
	char fraction[24];
	int width = 0;
	for (uint64_t d = divisor / 10; d > 0 && width < 20; d /= 10)
		fraction[width++] = (char)('0' + (rest / d) % 10);
	while (width > 1 && fraction[width - 1] == '0')
		width--;
	fraction[width] = '\0';
	snprintf(buf, len, "%llu.%s%s", (unsigned long long)whole, fraction, suffix);
}

/* The largest unit the value reaches, so 1500us prints as "1.5ms". */
static void format_with_units(uint64_t value, const struct unit *units, size_t nunits,
			      char *buf, unsigned len)
{
	size_t best = 0;
	for (size_t i = 0; i < nunits; i++)
		if (value >= units[i].multiplier && units[i].multiplier > units[best].multiplier)
			best = i;
	format_exact(value, units[best].multiplier, units[best].suffix, buf, len);
}

void units_format_rate(uint64_t bits_per_sec, char *buf, unsigned len)
{
	/* bit units only: byte rates are an input convenience */
	format_with_units(bits_per_sec, rate_units, 5, buf, len);
}

void units_format_time(uint64_t usec, char *buf, unsigned len)
{
	format_with_units(usec, time_units, sizeof(time_units) / sizeof(time_units[0]), buf,
			  len);
}

void units_format_percent(uint32_t ppm, char *buf, unsigned len)
{
	format_exact(ppm, 10000, "%", buf, len);
}
