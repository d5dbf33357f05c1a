/* Fuzz target: trashinfo_parse and trash_path_decode/encode (lib/trash.c),
 * a .trashinfo file as any program, or an attacker, may have written it
 * into a trash that saferm lists and restores from. */
#include <stdlib.h>

#include "fuzz.h"
#include "trash.h"

#define FUZZ_MAX_LEN 70000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	char *path = NULL, *text = fuzz_cstr(data, size), *back;
	int64_t deleted = 0;
	int rc;

	rc = trashinfo_parse((const char *)data, size, &path, &deleted, &err);
	if ((rc == 0) != (path != NULL) || (rc < 0 && !err.msg[0]))
		abort();
	if (rc == 0) {
		/* What was decoded encodes to text that decodes the same. */
		size_t n = 3 * strlen(path) + 1;
		char *enc = malloc(n);

		if (!enc || trash_path_encode(enc, n, path) < 0)
			abort();
		back = trash_path_decode(enc);
		if (!back || strcmp(back, path))
			abort();
		free(back);
		free(enc);
	}
	free(path);
	/* Any text through the decoder alone. */
	free(trash_path_decode(text));
	free(text);
	return 0;
}
