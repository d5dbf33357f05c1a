/* Fuzz target: k8s_from_kubeconfig (lib/k8s.c), a kubeconfig as kubectl
 * writes it (YAML, base64 *-data fields); the input is the file. */
#include <stdlib.h>

#include "fuzz.h"
#include "k8s.h"

#define FUZZ_MAX_LEN 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("kubeconfig", data, size);
	struct sd_err err = {0};
	struct k8s k;
	char auth[8192];

	k8s_init(&k);
	if (k8s_from_kubeconfig(&k, path, NULL, &err) == 0) {
		struct http_options o = {0};

		k8s_http_options(&k, &o);
		/* A token file named in the input is not read here: only an
		 * inline token makes a header. */
		if (!k.token_file)
			k8s_auth_header(&k, auth, sizeof(auth), &err);
		free(k8s_proxy_url(&k, k.namespace ? k.namespace : "default",
				   "pod", 8080, "/actuator/info"));
	} else if (!err.msg[0]) {
		abort();
	}
	k8s_release(&k);
	return 0;
}
