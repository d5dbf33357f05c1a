/* Fuzz target: the PodList reader (lib/podlist.c): the input is the JSON of
 * `kubectl get pods -o json` or an API PodList page. */
#include <stdlib.h>

#include "fuzz.h"
#include "podlist.h"

#define FUZZ_MAX_LEN 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	struct pod *pods = NULL;
	size_t n = 0;
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);

	if (!doc)
		return 0;
	if (podlist_read(doc, "fuzz.json", &pods, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			const struct pod *p = &pods[i];

			if (!p->name || !p->pod_name || !p->phase)
				abort();
			free(podlist_url(p, "http", p->port ? p->port : 8080,
					 "actuator/info"));
		}
		podlist_free(pods, n);
	} else if (!err.msg[0]) {
		abort();
	}
	json_decref(doc);
	return 0;
}
