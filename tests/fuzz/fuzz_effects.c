/* Fuzz target: a saferun plan's effects (lib/effects.c), as read back from
 * a kept plan file: effects_from_json, then the summary in both forms and
 * the JSON again, which must read back to the same list. */
#include <stdlib.h>
#include <string.h>

#include "effects.h"
#include "fuzz.h"

#define FUZZ_MAX_LEN 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	struct effects e = {0}, again = {0};
	struct effects_totals t;
	json_t *doc = json_loadb((const char *)data, size, 0, NULL), *back;
	char *text;

	if (!doc)
		return 0;
	if (effects_from_json(&e, doc, &err) < 0) {
		if (!err.msg[0])
			abort();
		effects_release(&e);
		json_decref(doc);
		return 0;
	}
	effects_sort(&e);
	effects_totals(&e, &t);
	text = effects_summary(&e, false, 12, "/srv/data");
	if (!text || !text[0] || text[strlen(text) - 1] != '\n')
		abort();
	free(text);
	text = effects_summary(&e, true, 0, NULL);
	if (!text)
		abort();
	free(text);
	back = effects_json(&e);
	if (effects_from_json(&again, back, &err) < 0 || again.n != e.n)
		abort();
	for (size_t i = 0; i < e.n; i++)
		if (again.v[i].op != e.v[i].op ||
		    strcmp(again.v[i].path, e.v[i].path) ||
		    again.v[i].files != e.v[i].files)
			abort();
	json_decref(back);
	effects_release(&again);
	effects_release(&e);
	json_decref(doc);
	return 0;
}
