/* Fuzz target: durations and sizes (lib/units.c) as they come from the
 * command line and configuration files; the input is the string. */
#include <stdlib.h>

#include "fuzz.h"
#include "units.h"

#define FUZZ_MAX_LEN 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	char *s = fuzz_cstr(data, size);
	char buf[64], tiny[4];
	int64_t ms = -1;
	uint64_t bytes;

	if (units_parse_duration(s, &ms, &err) == 0) {
		if (ms < 0)
			abort();
		units_format_duration(ms, buf, sizeof(buf));
		units_format_duration(ms, tiny, sizeof(tiny));
	} else if (!err.msg[0]) {
		abort();
	}
	err.msg[0] = '\0';
	if (units_parse_size(s, &bytes, &err) == 0) {
		units_format_size(bytes, buf, sizeof(buf));
		units_format_size(bytes, tiny, sizeof(tiny));
	} else if (!err.msg[0]) {
		abort();
	}
	free(s);
	return 0;
}
