/* Unit tests for lib/units.c: durations and sizes. */
#include "unit.h"
#include "units.h"

static int64_t dur(const char *s)
{
	struct sd_err err = {0};
	int64_t ms = -1;

	if (units_parse_duration(s, &ms, &err) < 0)
		return -1;
	return ms;
}

static void durations_parse(void)
{
	CHECK_INT(dur("90s"), 90000);
	CHECK_INT(dur("5m"), 300000);
	CHECK_INT(dur("2h"), 7200000);
	CHECK_INT(dur("7d"), 7 * 86400000LL);
	CHECK_INT(dur("1w"), 7 * 86400000LL);
	CHECK_INT(dur("250ms"), 250);
	CHECK_INT(dur("1h30m"), 5400000);
	CHECK_INT(dur("1.5h"), 5400000);
	CHECK_INT(dur("0s"), 0);
}

static void duration_errors_name_the_problem(void)
{
	struct sd_err err = {0};
	int64_t ms = 42;

	CHECK_INT(units_parse_duration("5x", &ms, &err), -1);
	CHECK_CONTAINS(err.msg, "unknown unit 'x'");
	CHECK_CONTAINS(err.msg, "'5x'");
	CHECK_INT(ms, 42); /* untouched on error */
	CHECK_INT(units_parse_duration("300", &ms, &err), -1);
	CHECK_CONTAINS(err.msg, "missing unit");
	CHECK_INT(units_parse_duration("", &ms, &err), -1);
	CHECK_CONTAINS(err.msg, "empty duration");
	CHECK_INT(units_parse_duration("m", &ms, &err), -1);
	CHECK_CONTAINS(err.msg, "expected a number");
	CHECK_INT(units_parse_duration("-5s", &ms, &err), -1);
	CHECK_INT(units_parse_duration("5 s", &ms, &err), -1);
	CHECK_INT(units_parse_duration("5mins", &ms, &err), -1);
	CHECK_CONTAINS(err.msg, "unknown unit 'mins'");
	CHECK_INT(units_parse_duration("99999999999999999999d", &ms, &err), -1);
	CHECK_CONTAINS(err.msg, "too large");
	CHECK_INT(units_parse_duration("9999999999999w", &ms, &err), -1);
	CHECK_CONTAINS(err.msg, "too large");
	CHECK_INT(err.code, SD_EXIT_USAGE);
	/* The fraction takes it over (tests/fuzz/crashes/units/). */
	CHECK_INT(units_parse_duration("9223372036854775.999s", &ms, &err), -1);
	CHECK_CONTAINS(err.msg, "too large");
	CHECK_INT(units_parse_duration("1ms9223372036854775.807s", &ms, &err),
		  -1);
	CHECK_INT(units_parse_duration("9223372036854775.807s", &ms, &err), 0);
	CHECK_INT(ms, INT64_MAX);
}

static uint64_t size(const char *s)
{
	struct sd_err err = {0};
	uint64_t b = 0;

	if (units_parse_size(s, &b, &err) < 0)
		return (uint64_t)-1;
	return b;
}

static void sizes_parse(void)
{
	CHECK_INT(size("512"), 512);
	CHECK_INT(size("512B"), 512);
	CHECK_INT(size("10k"), 10240);
	CHECK_INT(size("10K"), 10240);
	CHECK_INT(size("10KiB"), 10240);
	CHECK_INT(size("10KB"), 10000);
	CHECK_INT(size("1.5G"), 1610612736ULL);
	CHECK_INT(size("2M"), 2097152);
	CHECK_INT(size("1T"), 1099511627776ULL);
}

static void size_errors_name_the_problem(void)
{
	struct sd_err err = {0};
	uint64_t b = 7;

	CHECK_INT(units_parse_size("10x", &b, &err), -1);
	CHECK_CONTAINS(err.msg, "unknown unit 'x'");
	CHECK_INT(units_parse_size("10Kb", &b, &err), -1);
	CHECK_INT(units_parse_size("1.5", &b, &err), -1);
	CHECK_CONTAINS(err.msg, "whole");
	CHECK_INT(units_parse_size("", &b, &err), -1);
	CHECK_INT(units_parse_size("G", &b, &err), -1);
	CHECK_INT(units_parse_size("99999999999E", &b, &err), -1);
	CHECK_CONTAINS(err.msg, "too large");
	CHECK_INT(b, 7);
}

static void formats_round_trip(void)
{
	char buf[32];

	CHECK_STR(units_format_duration(250, buf, sizeof(buf)), "250ms");
	CHECK_STR(units_format_duration(45000, buf, sizeof(buf)), "45s");
	CHECK_STR(units_format_duration(90000, buf, sizeof(buf)), "1m30s");
	CHECK_STR(units_format_duration(7200000, buf, sizeof(buf)), "2h");
	CHECK_STR(units_format_duration(7 * 86400000LL, buf, sizeof(buf)),
		  "7d");
	CHECK_STR(units_format_duration(3 * 3600000 + 5000, buf, sizeof(buf)),
		  "3h");
	CHECK_STR(units_format_size(512, buf, sizeof(buf)), "512B");
	CHECK_STR(units_format_size(1536, buf, sizeof(buf)), "1.5K");
	CHECK_STR(units_format_size(10485760, buf, sizeof(buf)), "10M");
	CHECK_STR(units_format_size(1610612736ULL, buf, sizeof(buf)), "1.5G");
	/* What is printed parses back to the same value. */
	CHECK_INT(dur(units_format_duration(5400000, buf, sizeof(buf))),
		  5400000);
	CHECK_INT(size(units_format_size(1610612736ULL, buf, sizeof(buf))),
		  1610612736ULL);
}

int main(void)
{
	RUN(durations_parse, "units: parses 90s, 5m, 2h, 7d, 1h30m, 1.5h");
	RUN(duration_errors_name_the_problem,
	    "units: a duration unit typo is an error, never zero");
	RUN(sizes_parse, "units: parses 512, 10k, 10KB, 1.5G");
	RUN(size_errors_name_the_problem,
	    "units: a size unit typo is an error, never zero");
	RUN(formats_round_trip, "units: formats durations and sizes");
	UNIT_DONE();
}
