/* Replays inputs through one fuzz target without libFuzzer, so that the
 * normal (gcc, optionally sanitized) build runs the corpora and the crashes
 * found so far as regression tests. Prints TAP for tests/run.
 *
 *   fuzz_NAME [FILE|DIR]...   default: tests/fuzz/corpus/NAME and
 *                             tests/fuzz/crashes/NAME (if present)
 * A crash, a sanitizer report or an abort() in the target ends the process;
 * the input being replayed is named on stderr first. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the target, e.g. -DFUZZ_NAME=\"yaml\""
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t replayed;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL, *bigger;
	size_t len = 0, cap = 0, n;

	if (!f) {
		printf("# cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			bigger = realloc(data, cap);
			if (!bigger)
				abort();
			data = bigger;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	/* An exact-size copy, so that a sanitizer sees any read past the end
	 * as libFuzzer would. */
	bigger = malloc(len ? len : 1);
	if (!bigger)
		abort();
	memcpy(bigger, data, len);
	free(data);
	fprintf(stderr, "replaying %s\n", path);
	LLVMFuzzerTestOneInput(bigger, len);
	free(bigger);
	replayed++;
	return 0;
}

static int replay(const char *path, int must_exist)
{
	struct dirent **names;
	struct stat st;
	int n, rc = 0;

	if (stat(path, &st) < 0) {
		if (!must_exist && errno == ENOENT)
			return 0;
		printf("# cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		printf("# cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char sub[4096];

		if (names[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path,
				 names[i]->d_name);
			if (replay(sub, 1) < 0)
				rc = -1;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	printf("1..1\n");
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (replay(argv[i], 1) < 0)
				rc = -1;
	} else {
		/* A target without a seed corpus is a mistake; one without
		 * crashes is the hope. */
		if (replay("tests/fuzz/corpus/" FUZZ_NAME, 1) < 0 ||
		    replay("tests/fuzz/crashes/" FUZZ_NAME, 0) < 0)
			rc = -1;
	}
	if (!replayed)
		rc = -1;
	printf("%s 1 - fuzz_%s: %zu inputs replayed\n", rc ? "not ok" : "ok",
	       FUZZ_NAME, replayed);
	return rc ? 1 : 0;
}
