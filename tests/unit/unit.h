/* A small TAP-producing test harness for the C unit tests: each TEST is one
 * "ok"/"not ok" line; CHECK_* record failures with file:line and go on. */
#ifndef SD_UNIT_H
#define SD_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_count, unit_failed_tests, unit_current_failed;

#define UNIT_FAIL(...)                                                         \
	do {                                                                   \
		printf("#   %s:%d: ", __FILE__, __LINE__);                     \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
		unit_current_failed = 1;                                       \
	} while (0)

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			UNIT_FAIL("check failed: %s", #cond);                  \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long unit_a = (long long)(a), unit_b = (long long)(b);    \
		if (unit_a != unit_b)                                          \
			UNIT_FAIL("%s == %s: got %lld, want %lld", #a, #b,     \
				  unit_a, unit_b);                             \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *unit_a = (a), *unit_b = (b);                       \
		if (!unit_a || !unit_b || strcmp(unit_a, unit_b))              \
			UNIT_FAIL("%s == %s: got \"%s\", want \"%s\"", #a, #b, \
				  unit_a ? unit_a : "(null)",                  \
				  unit_b ? unit_b : "(null)");                 \
	} while (0)

/* The message of a struct sd_err contains the given text. */
#define CHECK_CONTAINS(hay, needle)                                            \
	do {                                                                   \
		const char *unit_h = (hay), *unit_n = (needle);                \
		if (!unit_h || !strstr(unit_h, unit_n))                        \
			UNIT_FAIL("\"%s\" does not contain \"%s\"",            \
				  unit_h ? unit_h : "(null)", unit_n);         \
	} while (0)

#define RUN(fn, name)                                                          \
	do {                                                                   \
		unit_current_failed = 0;                                       \
		fn();                                                          \
		unit_count++;                                                  \
		if (unit_current_failed)                                       \
			unit_failed_tests++;                                   \
		printf("%sok %d - %s\n", unit_current_failed ? "not " : "",    \
		       unit_count, name);                                      \
		fflush(stdout);                                                \
	} while (0)

/* A fresh directory for a test binary's files, removed by UNIT_DONE. */
static char unit_tmp[256];

__attribute__((unused)) static const char *unit_mkdtemp(const char *name)
{
	const char *t = getenv("TMPDIR");

	snprintf(unit_tmp, sizeof(unit_tmp), "%s/sd-%s-XXXXXX",
		 t && *t ? t : "/tmp", name);
	if (!mkdtemp(unit_tmp)) {
		perror("mkdtemp");
		exit(99);
	}
	return unit_tmp;
}

static void unit_rm_tmp(void)
{
	char cmd[300];

	if (!unit_tmp[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", unit_tmp);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", unit_tmp);
}

#define UNIT_DONE()                                                            \
	do {                                                                   \
		unit_rm_tmp();                                                 \
		printf("1..%d\n", unit_count);                                 \
		return unit_failed_tests ? 1 : 0;                              \
	} while (0)

#endif
