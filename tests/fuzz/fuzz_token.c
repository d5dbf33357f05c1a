/* Fuzz target: token_parse and token_verify (lib/token.c), a confirmation
 * token as a user types or pastes it. Verified against a fixed key, plan
 * and clock, so that seeds made for them (README) reach the HMAC check. */
#include <stdlib.h>

#include "base32.h"
#include "fuzz.h"
#include "token.h"

#define FUZZ_MAX_LEN 512

/* The seeds' key, plan and clock: see tests/fuzz/README. */
#define FUZZ_KEY                                                               \
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define FUZZ_PLAN "{\"tool\":\"fuzz\"}"
#define FUZZ_NOW  1700000000

static struct token_key key;
static struct plan plan;

static void setup(void)
{
	struct sd_err err = {0};
	const char *path = fuzz_file("token.key", (const uint8_t *)FUZZ_KEY,
				     strlen(FUZZ_KEY));

	if (token_key_load(&key, path, false, &err) < 0 ||
	    plan_parse(&plan, FUZZ_PLAN, strlen(FUZZ_PLAN), "fuzz", &err) < 0) {
		fprintf(stderr, "fuzz_token: %s\n", err.msg);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	struct token_info info, again;
	char *text = fuzz_cstr(data, size);
	char buf[64], enc[TOKEN_TEXT_LEN + 1];
	int rc;

	if (!key.bytes)
		setup();
	rc = token_parse(text, &info, &err);
	if ((rc == 0) != (info.verdict == TOKEN_VALID))
		abort();
	if (rc == 0) {
		/* What parses re-encodes to a token that parses the same. */
		base32_encode(info.raw, TOKEN_RAW_LEN, enc);
		if (token_parse(enc, &again, &err) < 0 ||
		    memcmp(info.raw, again.raw, TOKEN_RAW_LEN) ||
		    info.issued != again.issued ||
		    info.expires != again.expires)
			abort();
		token_format_time(info.issued, buf, sizeof(buf));
		token_format_time(info.expires, buf, sizeof(buf));
	} else if (!err.msg[0]) {
		abort();
	}
	err.msg[0] = '\0';
	rc = token_verify(&key, plan.digest, text, FUZZ_NOW, &info, &err);
	if ((rc == 0) != (info.verdict == TOKEN_VALID) ||
	    (rc < 0 && !err.msg[0]))
		abort();
	free(text);
	return 0;
}
