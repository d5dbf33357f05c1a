/* Fuzz target: the Prometheus text reader (lib/extract.c: promtext_label).
 * Input: "metric.label" on the first line (split at the last '.', as
 * verify does), then the exposition text a target might send. */
#include <stdlib.h>

#include "extract.h"
#include "fuzz.h"

#define FUZZ_MAX_LEN 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	char *spec, *dot, *value = NULL;
	size_t off = fuzz_split(data, size, &spec);
	int rc;

	dot = strrchr(spec, '.');
	if (dot)
		*dot = '\0';
	/* The text is passed as is, not NUL-terminated: promtext_label must
	 * never read past len. */
	rc = promtext_label((const char *)data + off, size - off, spec,
			    dot ? dot + 1 : "", &value, &err);
	if (rc == 0 && (!value || strlen(value) > 4096))
		abort();
	if (rc < 0 && (value || !err.msg[0]))
		abort();
	free(value);
	free(spec);
	return 0;
}
