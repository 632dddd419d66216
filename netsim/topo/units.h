/* The one parser for quantities in topology files and on the command line. */
#ifndef NETSIM_UNITS_H
#define NETSIM_UNITS_H

#include <stdint.h>

/* Rates, tc style: "100bit", "500kbit", "10mbit", "1gbit", "1tbit"; byte rates
 * "bps", "kbps", "mbps", "gbps" (×8); a bare number is bit/s.  SI multiples
 * (k=1000).  Decimal fractions allowed ("1.5mbit").  0 is refused.
 * Returns 0 and *bits_per_sec, or -EINVAL (malformed/unknown unit/zero) or
 * -ERANGE (overflow). */
int units_parse_rate(const char *s, uint64_t *bits_per_sec);

/* Times: "us", "ms", "s" suffixes (a unit is required); fractions allowed
 * ("1.5ms"); result in microseconds; "0ms" is allowed. */
int units_parse_time(const char *s, uint64_t *usec);

/* Percentages: "2%", "0.5%", "100%"; the % sign is required; 0..100 (above 100 is
 * -ERANGE).  Result in parts per million (1% = 10000). */
int units_parse_percent(const char *s, uint32_t *ppm);

/* Formatting back, for status/graph output: the largest unit the value reaches,
 * with the fewest decimals that keep it exact, so the text parses back to the same
 * value ("10mbit", "1.5mbit", "1.5ms", "20ms", "0us", "0.5%").  Rates use bit
 * units only.  Output is truncated to len (snprintf-style). */
void units_format_rate(uint64_t bits_per_sec, char *buf, unsigned len);
void units_format_time(uint64_t usec, char *buf, unsigned len);
void units_format_percent(uint32_t ppm, char *buf, unsigned len);

#endif
