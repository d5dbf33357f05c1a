/* Fuzz target: the JSON path extractor (lib/extract.c: jpath_validate,
 * jpath_get, jpath_text). Input: the path on the first line, then the JSON
 * answer a target might send. */
#include <stdlib.h>

#include "extract.h"
#include "fuzz.h"

#define FUZZ_MAX_LEN 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	const char *kind;
	char *path;
	size_t off = fuzz_split(data, size, &path);
	int valid = jpath_validate(path, &err) == 0;
	json_t *doc, *v;

	if (!valid && !err.msg[0])
		abort();
	doc = json_loadb((const char *)data + off, size - off,
			 JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (doc) {
		err.msg[0] = '\0';
		v = jpath_get(doc, path, &err);
		/* A path that does not validate never reaches a value. */
		if (v && !valid)
			abort();
		if (!v && !err.msg[0])
			abort();
		free(jpath_text(v, &kind));
		free(jpath_text(doc, NULL));
		json_decref(doc);
	}
	free(path);
	return 0;
}
