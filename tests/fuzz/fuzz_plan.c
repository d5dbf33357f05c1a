/* Fuzz target: plan_parse (lib/plan.c), a plan file as a pipeline's plan
 * stage hands it to the apply stage. Checks that the canonical form reads
 * back to the same digest and the same canonical text. */
#include <stdlib.h>

#include "fuzz.h"
#include "plan.h"

#define FUZZ_MAX_LEN 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	struct plan plan, again;
	char *text, *text2;

	if (plan_parse(&plan, (const char *)data, size, "fuzz.json", &err) <
	    0) {
		if (!err.msg[0] || plan.doc)
			abort();
		return 0;
	}
	text = plan_canonical(plan.doc);
	if (!text)
		abort();
	if (plan_parse(&again, text, strlen(text), "canonical", &err) < 0)
		abort();
	text2 = plan_canonical(again.doc);
	if (!text2 || strcmp(text, text2) ||
	    memcmp(plan.digest, again.digest, PLAN_DIGEST_LEN) ||
	    strcmp(plan.hex, again.hex))
		abort();
	free(text);
	free(text2);
	plan_release(&plan);
	plan_release(&again);
	return 0;
}
