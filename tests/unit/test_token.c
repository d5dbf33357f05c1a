/* Unit tests for lib/base32.c, lib/plan.c, lib/token.c and lib/ledger.c. */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base32.h"
#include "fsutil.h"
#include "plan.h"
#include "token.h"
#include "unit.h"

static char tmp[256];

static void path_in_tmp(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmp, name);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char p[512];
	int fd;

	path_in_tmp(p, sizeof(p), name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0);
	CHECK(fs_write_all(fd, text, strlen(text)) == 0);
	fchmod(fd, mode);
	close(fd);
}

static void base32_round_trips(void)
{
	unsigned char in[30], out[30];
	char text[49];
	long bad;
	size_t chars;

	for (int i = 0; i < 30; i++)
		in[i] = (unsigned char)(i * 37 + 11);
	base32_encode(in, sizeof(in), text);
	CHECK_INT(strlen(text), 48);
	CHECK(strpbrk(text, "ILOU") == NULL);
	CHECK_INT(base32_decode(text, out, sizeof(out), &bad, &chars), 0);
	CHECK(!memcmp(in, out, sizeof(in)));
	/* Lower case, hyphens, and I/L/O read as 1/1/0 decode the same. */
	for (char *p = text; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	CHECK_INT(base32_decode(text, out, sizeof(out), &bad, &chars), 0);
	CHECK(!memcmp(in, out, sizeof(in)));
	CHECK_INT(base32_decode("0O1IL-", out, 3, &bad, &chars), -1);
	CHECK_INT(chars, 5);
	CHECK_INT(base32_decode("ABUDE", out, 3, &bad, &chars), -1);
	CHECK_INT(bad, 2);
}

static void plan_digest_ignores_order_and_space(void)
{
	struct sd_err err = {0};
	struct plan a, b, c;
	const char *t1 =
		"{\"tool\":\"rm\",\"targets\":[{\"path\":\"/a\",\"size\":3}]}";
	const char *t2 =
		"{\n  \"targets\": [ { \"size\": 3, \"path\": \"/a\" } ],\n"
		"  \"tool\" : \"rm\"\n}\n";
	const char *t3 =
		"{\"tool\":\"rm\",\"targets\":[{\"path\":\"/b\",\"size\":3}]}";

	CHECK_INT(plan_parse(&a, t1, strlen(t1), "a", &err), 0);
	CHECK_INT(plan_parse(&b, t2, strlen(t2), "b", &err), 0);
	CHECK_INT(plan_parse(&c, t3, strlen(t3), "c", &err), 0);
	CHECK_STR(a.hex, b.hex);
	CHECK(strcmp(a.hex, c.hex) != 0);
	CHECK_INT(strlen(a.hex), 64);
	plan_release(&a);
	plan_release(&b);
	plan_release(&c);
}

static void plan_digest_is_sha256_of_canonical_form(void)
{
	struct sd_err err = {0};
	struct plan p;
	const char *t = "{\"b\":1,\"a\":\"x\"}";

	/* printf '{"a":"x","b":1}' | sha256sum */
	CHECK_INT(plan_parse(&p, t, strlen(t), "p", &err), 0);
	CHECK_STR(
		p.hex,
		"cdab067e9f3beb32d1252cfd63e492592fecbf591b0d08cadb24bb17f3864246");
	plan_release(&p);
}

static void bad_plans_are_named(void)
{
	struct sd_err err = {0};
	struct plan p;

	CHECK_INT(plan_parse(&p, "", 0, "p.json", &err), -1);
	CHECK_CONTAINS(err.msg, "plan 'p.json': empty");
	CHECK_INT(plan_parse(&p, " \n ", 3, "p.json", &err), -1);
	CHECK_CONTAINS(err.msg, "empty");
	CHECK_INT(plan_parse(&p, "{}", 2, "p.json", &err), -1);
	CHECK_CONTAINS(err.msg, "empty");
	CHECK_INT(plan_parse(&p, "[1]", 3, "p.json", &err), -1);
	CHECK_CONTAINS(err.msg, "not a JSON object");
	CHECK_INT(plan_parse(&p, "{\"a\":1,\n\"b\":}", 13, "p.json", &err), -1);
	CHECK_CONTAINS(err.msg,
		       "plan 'p.json' is not valid JSON: line 2, column");
	CHECK_INT(plan_parse(&p, "{\"a\":1,\"a\":2}", 13, "p.json", &err), -1);
	CHECK_CONTAINS(err.msg, "duplicate");
	CHECK_INT(err.code, SD_EXIT_CANNOT);
}

static void load_key(struct token_key *k, const char *name)
{
	struct sd_err err = {0};
	char p[512];

	path_in_tmp(p, sizeof(p), name);
	if (token_key_load(k, p, true, &err) < 0)
		UNIT_FAIL("key: %s", err.msg);
}

static void key_is_created_private_and_reused(void)
{
	struct token_key k1, k2;
	struct stat st;
	char p[512];

	load_key(&k1, "state/sub/token.key");
	path_in_tmp(p, sizeof(p), "state/sub/token.key");
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(st.st_size, 65);
	load_key(&k2, "state/sub/token.key");
	CHECK_INT(k1.len, k2.len);
	CHECK(!memcmp(k1.bytes, k2.bytes, k1.len));
	token_key_release(&k1);
	token_key_release(&k2);
}

static void loose_or_short_keys_are_refused(void)
{
	struct sd_err err = {0};
	struct token_key k;
	char p[512];

	write_file("loose.key", "0123456789abcdef0123456789abcdef\n", 0644);
	path_in_tmp(p, sizeof(p), "loose.key");
	CHECK_INT(token_key_load(&k, p, true, &err), -1);
	CHECK_CONTAINS(err.msg, "accessible by others (mode 0644)");
	CHECK_CONTAINS(err.msg, "chmod 600");
	write_file("group.key", "0123456789abcdef0123456789abcdef\n", 0640);
	path_in_tmp(p, sizeof(p), "group.key");
	CHECK_INT(token_key_load(&k, p, true, &err), -1);
	write_file("short.key", "tooshort\n", 0600);
	path_in_tmp(p, sizeof(p), "short.key");
	CHECK_INT(token_key_load(&k, p, true, &err), -1);
	CHECK_CONTAINS(err.msg, "too short (8 bytes");
	path_in_tmp(p, sizeof(p), "absent.key");
	CHECK_INT(token_key_load(&k, p, false, &err), -1);
	CHECK_INT(err.code, SD_EXIT_CONFIRM);
	CHECK_CONTAINS(err.msg, "no key at");
	CHECK(access(p, F_OK) < 0); /* checking never creates a key */
}

static void mkplan(struct plan *p, const char *json)
{
	struct sd_err err = {0};

	if (plan_parse(p, json, strlen(json), "plan", &err) < 0)
		UNIT_FAIL("plan: %s", err.msg);
}

static void tokens_verify_and_say_why_not(void)
{
	struct sd_err err = {0};
	struct token_key k, other;
	struct token_info info;
	struct plan p, q;
	char tok[49], bad[49];
	int64_t now = 1800000000;

	load_key(&k, "k1.key");
	load_key(&other, "k2.key");
	mkplan(&p, "{\"op\":\"delete\",\"n\":1}");
	mkplan(&q, "{\"op\":\"delete\",\"n\":2}");
	CHECK_INT(token_issue(&k, p.digest, now, 300, tok, &err), 0);
	CHECK_INT(strlen(tok), 48);
	/* Issued twice in the same second, two different tokens. */
	{
		char again[49];

		CHECK_INT(token_issue(&k, p.digest, now, 300, again, &err), 0);
		CHECK(strcmp(tok, again) != 0);
		CHECK_INT(token_verify(&k, p.digest, again, now, &info, &err),
			  0);
	}

	CHECK_INT(token_verify(&k, p.digest, tok, now + 10, &info, &err), 0);
	CHECK_INT(info.issued, now);
	CHECK_INT(info.expires, now + 300);

	CHECK_INT(token_verify(&k, q.digest, tok, now, &info, &err), -1);
	CHECK_INT(info.verdict, TOKEN_OTHER_PLAN);
	CHECK_STR(err.msg, "token is for a different plan");
	CHECK_INT(err.code, SD_EXIT_CONFIRM);

	CHECK_INT(token_verify(&other, p.digest, tok, now, &info, &err), -1);
	CHECK_INT(info.verdict, TOKEN_OTHER_KEY);
	CHECK_CONTAINS(err.msg, "signed with another key");

	CHECK_INT(token_verify(&k, p.digest, tok, now + 300, &info, &err), -1);
	CHECK_INT(info.verdict, TOKEN_EXPIRED);
	CHECK_STR(err.msg, "token expired just now");
	CHECK_INT(token_verify(&k, p.digest, tok, now + 432, &info, &err), -1);
	CHECK_STR(err.msg, "token expired 2m12s ago");

	CHECK_INT(token_verify(&k, p.digest, tok, now - 60, &info, &err), 0);
	CHECK_INT(token_verify(&k, p.digest, tok, now - 61, &info, &err), -1);
	CHECK_INT(info.verdict, TOKEN_FUTURE);
	CHECK_CONTAINS(err.msg,
		       "token is from the future: issued 1m1s from now");

	/* Flip one character of the signature part: altered. */
	memcpy(bad, tok, sizeof(bad));
	bad[45] = bad[45] == 'A' ? 'B' : 'A';
	CHECK_INT(token_verify(&k, p.digest, bad, now, &info, &err), -1);
	CHECK_INT(info.verdict, TOKEN_ALTERED);
	CHECK_CONTAINS(err.msg, "altered or mistyped");
	/* Move the issue time: the signature no longer matches either. */
	memcpy(bad, tok, sizeof(bad));
	bad[5] = bad[5] == 'A' ? 'B' : 'A';
	CHECK_INT(token_verify(&k, p.digest, bad, now, &info, &err), -1);
	CHECK_INT(info.verdict, TOKEN_ALTERED);

	CHECK_INT(token_issue(&k, p.digest, now, 0, tok, &err), -1);
	CHECK_INT(token_issue(&k, p.digest, now, TOKEN_MAX_TTL + 1, tok, &err),
		  -1);
	token_key_release(&k);
	token_key_release(&other);
	plan_release(&p);
	plan_release(&q);
}

static void malformed_tokens_say_what_is_wrong(void)
{
	struct sd_err err = {0};
	struct token_info info;

	CHECK_INT(token_parse("ABC", &info, &err), -1);
	CHECK_INT(info.verdict, TOKEN_MALFORMED);
	CHECK_STR(err.msg,
		  "token is malformed: it has 3 characters, a token has 48");
	CHECK_INT(
		token_parse("0123456789ABCDEFGHJKMNPQRSTVWXYZ012345678901234!",
			    &info, &err),
		-1);
	CHECK_STR(
		err.msg,
		"token is malformed: '!' (character 48) cannot appear in a token");
	CHECK_INT(token_parse("0123U", &info, &err), -1);
	CHECK_CONTAINS(err.msg, "'U' (character 5)");
	CHECK_INT(token_parse("", &info, &err), -1);
	CHECK_CONTAINS(err.msg, "it has 0 characters");
	/* 48 valid characters, but format version 0. */
	CHECK_INT(
		token_parse("000000000000000000000000000000000000000000000000",
			    &info, &err),
		-1);
	CHECK_CONTAINS(err.msg, "unknown format version 0");
	CHECK_INT(err.code, SD_EXIT_CONFIRM);
}

static void redeem_is_single_use_and_survives_restarts(void)
{
	struct sd_err err = {0};
	struct token_key k;
	struct token_info info;
	struct plan p;
	char tok[49], state[512];
	int64_t now = token_now();

	path_in_tmp(state, sizeof(state), "state1");
	load_key(&k, "k3.key");
	mkplan(&p, "{\"op\":\"x\"}");
	CHECK_INT(token_issue(&k, p.digest, now, 300, tok, &err), 0);
	CHECK_INT(
		token_check(&k, p.digest, tok, state, false, now, &info, &err),
		0);
	CHECK_INT(token_check(&k, p.digest, tok, state, true, now, &info, &err),
		  0);
	CHECK_INT(
		token_check(&k, p.digest, tok, state, false, now, &info, &err),
		-1);
	CHECK_INT(info.verdict, TOKEN_USED);
	CHECK_CONTAINS(err.msg, "token was already used at ");
	CHECK_INT(token_check(&k, p.digest, tok, state, true, now, &info, &err),
		  -1);
	CHECK_INT(info.verdict, TOKEN_USED);
	token_key_release(&k);
	plan_release(&p);
}

static void ledger_prunes_long_expired_entries(void)
{
	struct sd_err err = {0};
	struct token_key k;
	struct token_info info;
	struct plan p;
	char tok[49], state[512], ledger[600], *text;
	int64_t now = 1800000000;

	path_in_tmp(state, sizeof(state), "state2");
	load_key(&k, "k4.key");
	mkplan(&p, "{\"op\":\"y\"}");
	CHECK_INT(token_issue(&k, p.digest, now, 60, tok, &err), 0);
	CHECK_INT(token_check(&k, p.digest, tok, state, true, now, &info, &err),
		  0);
	CHECK_INT(token_issue(&k, p.digest, now + 30 * 86400, 60, tok, &err),
		  0);
	CHECK_INT(token_check(&k, p.digest, tok, state, true, now + 30 * 86400,
			      &info, &err),
		  0);
	snprintf(ledger, sizeof(ledger), "%s/tokens.ledger", state);
	CHECK_INT(fs_read_file(ledger, 1 << 20, &text, NULL, &err), 0);
	/* The header line and only the recent entry. */
	{
		int lines = 0;

		for (const char *c = text; *c; c++)
			lines += *c == '\n';
		CHECK_INT(lines, 2);
	}
	CHECK_CONTAINS(text, " 1802592000 1802592060\n");
	free(text);
	token_key_release(&k);
	plan_release(&p);
}

static void corrupt_ledger_accepts_nothing(void)
{
	struct sd_err err = {0};
	struct token_key k;
	struct token_info info;
	struct plan p;
	char tok[49], state[512];
	int64_t now = token_now();

	path_in_tmp(state, sizeof(state), "state3");
	mkdir(state, 0700);
	write_file("state3/tokens.ledger", "# header\nnot a ledger line\n",
		   0600);
	load_key(&k, "k5.key");
	mkplan(&p, "{\"op\":\"z\"}");
	CHECK_INT(token_issue(&k, p.digest, now, 300, tok, &err), 0);
	CHECK_INT(token_check(&k, p.digest, tok, state, true, now, &info, &err),
		  -1);
	CHECK_CONTAINS(err.msg, "tokens.ledger' is corrupt at line 2");
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_INT(
		token_check(&k, p.digest, tok, state, false, now, &info, &err),
		-1);
	/* A torn last line (no newline) is corrupt too. */
	write_file("state3/tokens.ledger",
		   "0123456789abcdef0123456789abcdef 1 2", 0600);
	CHECK_INT(token_check(&k, p.digest, tok, state, true, now, &info, &err),
		  -1);
	CHECK_CONTAINS(err.msg, "corrupt at line 1");
	token_key_release(&k);
	plan_release(&p);
}

/* Many processes redeem the same token at once: exactly one succeeds. */
static void concurrent_redeem_has_one_winner(void)
{
	enum { N = 16 };
	struct sd_err err = {0};
	struct token_key k;
	struct plan p;
	char tok[49], state[512];
	int pipefd[2], winners = 0, used = 0;
	int64_t now = token_now();

	path_in_tmp(state, sizeof(state), "state4");
	load_key(&k, "k6.key");
	mkplan(&p, "{\"op\":\"race\"}");
	CHECK_INT(token_issue(&k, p.digest, now, 300, tok, &err), 0);
	CHECK_INT(pipe(pipefd), 0);
	for (int i = 0; i < N; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			struct token_info info;
			struct sd_err e = {0};
			char r;

			/* Wait for the start signal so that all race. */
			if (read(pipefd[0], &r, 1) != 1)
				_exit(9);
			if (token_check(&k, p.digest, tok, state, true, now,
					&info, &e) == 0)
				_exit(0);
			_exit(info.verdict == TOKEN_USED ? 1 : 2);
		}
	}
	close(pipefd[0]);
	for (int i = 0; i < N; i++)
		CHECK(write(pipefd[1], "g", 1) == 1);
	close(pipefd[1]);
	for (int i = 0; i < N; i++) {
		int status;

		wait(&status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			winners++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
			used++;
	}
	CHECK_INT(winners, 1);
	CHECK_INT(used, N - 1);
	token_key_release(&k);
	plan_release(&p);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "%s", unit_mkdtemp("token"));
	RUN(base32_round_trips,
	    "base32: round trips, ignores case and hyphens");
	RUN(plan_digest_ignores_order_and_space,
	    "plan: key order and whitespace do not change the digest");
	RUN(plan_digest_is_sha256_of_canonical_form,
	    "plan: digest is SHA-256 of sorted compact JSON");
	RUN(bad_plans_are_named, "plan: empty, non-object and bad JSON named");
	RUN(key_is_created_private_and_reused,
	    "token: key created 0600, reused");
	RUN(loose_or_short_keys_are_refused,
	    "token: loose, short and absent keys refused");
	RUN(tokens_verify_and_say_why_not,
	    "token: other plan, other key, expired, future, altered");
	RUN(malformed_tokens_say_what_is_wrong,
	    "token: malformed tokens name the problem");
	RUN(redeem_is_single_use_and_survives_restarts,
	    "token: a redeemed token is refused afterwards");
	RUN(ledger_prunes_long_expired_entries,
	    "token: ledger drops long-expired entries");
	RUN(corrupt_ledger_accepts_nothing,
	    "token: a corrupt ledger accepts nothing");
	RUN(concurrent_redeem_has_one_winner,
	    "token: 16 concurrent redeems, exactly one wins");
	UNIT_DONE();
}
