/* Durations and sizes; see units.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "units.h"

/* Read digits[.digits] at *p: the whole part and the fraction scaled to
 * `scale` (e.g. 1000 for milliseconds of a second). -1 if no digits. */
static int read_number(const char **p, uint64_t *whole, uint64_t *frac_num,
		       uint64_t *frac_den)
{
	const char *s = *p;
	int digits = 0;

	*whole = 0;
	*frac_num = 0;
	*frac_den = 1;
	while (isdigit((unsigned char)*s)) {
		if (*whole > (UINT64_MAX - 9) / 10)
			return -2;
		*whole = *whole * 10 + (uint64_t)(*s++ - '0');
		digits++;
	}
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			/* Nine fractional digits are more than any unit needs. */
			if (*frac_den < 1000000000ULL) {
				*frac_num =
					*frac_num * 10 + (uint64_t)(*s - '0');
				*frac_den *= 10;
			}
			s++;
			digits++;
		}
	}
	if (!digits)
		return -1;
	*p = s;
	return 0;
}

static const struct unit {
	const char *name;
	int64_t ms;
} duration_units[] = {
	{"ms", 1},	    {"s", 1000},	 {"m", 60 * 1000},
	{"h", 3600 * 1000}, {"d", 86400 * 1000}, {"w", 7 * 86400 * 1000LL},
};

int units_parse_duration(const char *s, int64_t *ms, struct sd_err *err)
{
	const char *p = s;
	int64_t total = 0;

	if (!s || !*s)
		return err_set(err, SD_EXIT_USAGE, "empty duration");
	while (*p) {
		uint64_t whole, num, den;
		int64_t add, frac;
		const struct unit *u = NULL;
		char unit[8];
		size_t len = 0;
		int r = read_number(&p, &whole, &num, &den);

		if (r == -2)
			return err_set(err, SD_EXIT_USAGE,
				       "invalid duration '%s': too large", s);
		if (r < 0)
			return err_set(
				err, SD_EXIT_USAGE,
				"invalid duration '%s': expected a number "
				"followed by a unit (e.g. 90s, 5m, 2h, 7d)",
				s);
		while (len < sizeof(unit) - 1 && isalpha((unsigned char)p[len]))
			len++;
		memcpy(unit, p, len);
		unit[len] = '\0';
		if (!len)
			return err_set(err, SD_EXIT_USAGE,
				       "invalid duration '%s': missing unit "
				       "(use ms, s, m, h, d or w, e.g. '%ss')",
				       s, s);
		for (size_t i = 0;
		     i < sizeof(duration_units) / sizeof(*duration_units); i++)
			if (!strcmp(unit, duration_units[i].name))
				u = &duration_units[i];
		if (!u)
			return err_set(
				err, SD_EXIT_USAGE,
				"invalid duration '%s': unknown unit '%s' "
				"(use ms, s, m, h, d or w)",
				s, unit);
		p += len;
		if (whole > (uint64_t)(INT64_MAX / u->ms))
			return err_set(err, SD_EXIT_USAGE,
				       "invalid duration '%s': too large", s);
		/* The fraction counts too: "9223372036854775.999s" is
		 * INT64_MAX - 807 ms of whole seconds plus 999 ms. */
		add = (int64_t)whole * u->ms;
		frac = (int64_t)(num * (uint64_t)u->ms / den);
		if (add > INT64_MAX - frac || total > INT64_MAX - add - frac)
			return err_set(err, SD_EXIT_USAGE,
				       "invalid duration '%s': too large", s);
		total += add + frac;
	}
	*ms = total;
	return 0;
}

int units_parse_size(const char *s, uint64_t *bytes, struct sd_err *err)
{
	static const char prefixes[] = "KMGTPE";
	const char *p = s;
	uint64_t whole, num, den, mult = 1, base = 1024;
	unsigned __int128 frac;
	const char *hit;
	int r;

	if (!s || !*s)
		return err_set(err, SD_EXIT_USAGE, "empty size");
	r = read_number(&p, &whole, &num, &den);
	if (r == -2)
		return err_set(err, SD_EXIT_USAGE,
			       "invalid size '%s': too large", s);
	if (r < 0)
		return err_set(err, SD_EXIT_USAGE,
			       "invalid size '%s': expected a number with an "
			       "optional unit (e.g. 512, 10k, 1.5G)",
			       s);
	if (*p && (hit = strchr(prefixes, toupper((unsigned char)*p)))) {
		int power = (int)(hit - prefixes) + 1;

		p++;
		if (!strcmp(p, "B"))
			base = 1000;
		else if (!strcmp(p, "iB") || !*p)
			base = 1024;
		else
			goto bad_unit;
		for (int i = 0; i < power; i++)
			mult *= base;
		p = "";
	} else if (!strcmp(p, "B")) {
		p = "";
	}
	if (*p)
		goto bad_unit;
	if (mult == 1 && num)
		return err_set(err, SD_EXIT_USAGE,
			       "invalid size '%s': a byte count must be whole",
			       s);
	if (whole > UINT64_MAX / mult)
		return err_set(err, SD_EXIT_USAGE,
			       "invalid size '%s': too large", s);
	/* num/den < 1: the fraction adds less than one mult. */
	frac = (unsigned __int128)num * mult / den;
	if (whole * mult > UINT64_MAX - (uint64_t)frac)
		return err_set(err, SD_EXIT_USAGE,
			       "invalid size '%s': too large", s);
	*bytes = whole * mult + (uint64_t)frac;
	return 0;
bad_unit:
	return err_set(err, SD_EXIT_USAGE,
		       "invalid size '%s': unknown unit '%s' (use K, M, G, T, "
		       "P, E, optionally followed by iB or B)",
		       s, p);
}

const char *units_format_duration(int64_t ms, char *buf, size_t n)
{
	static const struct {
		char name;
		int64_t secs;
	} parts[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	int64_t secs;
	size_t used = 0;
	int shown = 0;

	if (ms < 0)
		ms = -ms;
	if (ms < 1000) {
		snprintf(buf, n, "%lldms", (long long)ms);
		return buf;
	}
	secs = ms / 1000;
	buf[0] = '\0';
	for (size_t i = 0; i < 4 && shown < 2; i++) {
		int64_t v = secs / parts[i].secs;

		if (!v) {
			if (shown)
				break; /* "3h" rather than "3h0m" or "3h5s" */
			continue;
		}
		secs -= v * parts[i].secs;
		if (used < n)
			used += (size_t)snprintf(buf + used, n - used, "%lld%c",
						 (long long)v, parts[i].name);
		shown++;
	}
	return buf;
}

const char *units_format_size(uint64_t bytes, char *buf, size_t n)
{
	static const char prefixes[] = "KMGTPE";
	double v = (double)bytes;
	int i = -1;

	if (bytes < 1024) {
		snprintf(buf, n, "%lluB", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	if (v < 10 && (uint64_t)(v * 10) % 10)
		snprintf(buf, n, "%.1f%c", (double)(uint64_t)(v * 10) / 10,
			 prefixes[i]);
	else
		snprintf(buf, n, "%llu%c", (unsigned long long)v, prefixes[i]);
	return buf;
}

int64_t units_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *units_format_utc(int64_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "@%lld", (long long)(ms / 1000));
	return buf;
}

int64_t units_parse_utc(const char *s)
{
	struct tm tm = {0};
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	return end && !*end ? (int64_t)timegm(&tm) * 1000 : -1;
}

const char *units_format_count(uint64_t n, char *buf, size_t size)
{
	char digits[32], out[48];
	int len =
		snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	size_t o = 0;

	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
	snprintf(buf, size, "%s", out);
	return buf;
}
