/* Fuzz target: yaml_to_json (lib/yaml.c), the YAML reader behind every
 * configuration file and kubeconfig. The input is the YAML text. */
#include <stdlib.h>

#include "config.h"
#include "fuzz.h"

#define FUZZ_MAX_LEN 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	json_t *out = NULL, *origins = json_object();
	char *text;
	int rc;

	if (!origins)
		abort();
	rc = yaml_to_json((const char *)data, size, "fuzz.yml", "top", &out,
			  origins, &err);
	/* The contract: a value on success, nothing and a message on error. */
	if (rc == 0 && !out)
		abort();
	if (rc < 0 && (out || !err.msg[0]))
		abort();
	if (out) {
		text = json_dumps(out, JSON_ENCODE_ANY | JSON_SORT_KEYS);
		if (!text)
			abort();
		free(text);
	}
	json_decref(out);
	json_decref(origins);
	/* Without origins: the path strings are never built. */
	rc = yaml_to_json((const char *)data, size, NULL, NULL, &out, NULL,
			  &err);
	json_decref(out);
	return 0;
}
