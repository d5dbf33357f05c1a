/* Fuzz target: the probe's endpoints (lib/probe.c probe_config_load) from
 * YAML, as a Gatus file (endpoints:) and as a safedeploy one
 * (probe.endpoints:): every field, URL and condition through its checks.
 * Nothing is run. */
#include <stdlib.h>

#include "config.h"
#include "fuzz.h"
#include "probe.h"

#define FUZZ_MAX_LEN 65536

static void load(json_t *root, const char *prefix, json_t *origins)
{
	struct probe_config pc;
	struct sd_err err = {0};

	if (probe_config_load(&pc, root, prefix, origins, &err) < 0) {
		if (!err.msg[0])
			abort();
	} else {
		for (size_t i = 0; i < pc.n; i++)
			if (!pc.v[i].key || !pc.v[i].nconds)
				abort();
	}
	probe_config_release(&pc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = NULL, *origins = json_object();
	struct sd_err err = {0};

	if (size > FUZZ_MAX_LEN)
		return 0;
	if (yaml_to_json((const char *)data, size, "fuzz.yml", "", &root,
			 origins, &err) == 0) {
		load(root, "endpoints", origins);
		load(root, "probe.endpoints", origins);
	}
	json_decref(root);
	json_decref(origins);
	return 0;
}
