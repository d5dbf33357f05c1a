/* Fuzz target: probe conditions (lib/cond.c: cond_parse, cond_eval).
 * Input: a condition on the first line, then the body of a check, which
 * also serves as its address and DNS response code. Each condition that
 * parses is evaluated against values taken from the input and against a
 * check that has none. */
#include <stdlib.h>

#include "cond.h"
#include "fuzz.h"

#define FUZZ_MAX_LEN 8192

/* One evaluation, and the invariants of any evaluation: the rendering is
 * NUL-terminated in whatever buffer it is given, and the result does not
 * depend on that buffer. */
static void eval(const struct cond *c, struct cond_values *v)
{
	char out[512], small[7];
	bool ok = cond_eval(c, v, out, sizeof(out));

	if (strnlen(out, sizeof(out)) == sizeof(out))
		abort();
	if (cond_eval(c, v, small, sizeof(small)) != ok ||
	    strnlen(small, sizeof(small)) == sizeof(small))
		abort();
	/* A full rendering starts as the short one did. */
	if (strncmp(out, small, strlen(small)))
		abort();
	if (cond_eval(c, v, NULL, 0) != ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	struct cond_values v;
	char *text, *word;
	size_t off = fuzz_split(data, size, &text);
	struct cond *c = cond_parse(text, &err);

	if (!c) {
		if (!err.msg[0])
			abort();
		free(text);
		return 0;
	}
	if (strcmp(cond_text(c), text))
		abort();
	/* The body as the exact bytes libFuzzer gave: any read past its end
	 * is a sanitizer report. */
	word = fuzz_cstr(data + off, size - off);
	cond_values_init(&v);
	v.status = (long)(size % 600);
	v.response_time_ms = (int64_t)size * 7 - 1000;
	v.body = (const char *)data + off;
	v.body_len = size - off;
	v.ip = word;
	v.connected = (int)(size & 1);
	v.cert_expiry_ms = ((int64_t)size - 4000) * 3600000;
	v.dns_rcode = word;
	eval(c, &v);
	eval(c, &v); /* with the body's JSON cached */
	cond_values_release(&v);
	cond_values_init(&v);
	eval(c, &v);
	cond_values_release(&v);
	free(word);
	cond_free(c);
	free(text);
	return 0;
}
