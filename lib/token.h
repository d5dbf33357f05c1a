/* Confirmation tokens bound to a plan digest (DESIGN.md §1).
 *
 * A token is 30 bytes written as 48 Crockford base32 characters:
 *   [0]      format version (1)
 *   [1..5]   issue time, seconds since the epoch, big-endian
 *   [6..8]   lifetime in seconds, big-endian (at most 16777215, ~194 days)
 *   [9..10]  key id: the first bytes of SHA-256("safedeploy-key-id" ‖ key)
 *   [11..12] plan id: the first bytes of the plan digest
 *   [13..17] random nonce, so that two tokens are never the same
 *   [18..29] HMAC-SHA256(key, "safedeploy-token-v1" ‖ digest ‖ bytes 0..17),
 *            truncated to 12 bytes
 * The key and plan ids only let a refusal say *why*; the HMAC decides. */
#ifndef SD_TOKEN_H
#define SD_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "plan.h"

#define TOKEN_RAW_LEN	  30
#define TOKEN_TEXT_LEN	  48
#define TOKEN_MAX_TTL	  16777215LL /* seconds */
#define TOKEN_MAX_SKEW	  60  /* seconds a token may come from the future */
#define TOKEN_DEFAULT_TTL 300 /* seconds */
#define TOKEN_KEY_MIN	  32  /* bytes */

struct token_key {
	unsigned char *bytes;
	size_t len;
	unsigned char id[2];
	char path[4096];
};

/* Where the key lives: $SAFEDEPLOY_TOKEN_KEY_FILE, else configured
 * (may be NULL), else STATE_DIR/token.key. */
int token_key_path(const char *configured, char *buf, size_t n,
		   struct sd_err *err);

/* Load the key at path. With create, a missing key is made: 32 random
 * bytes as 64 hex digits, mode 0600, race-free against another process
 * creating it at the same time. A key that is not a regular file, is
 * readable or writable by group or others, or is shorter than 32 bytes is
 * refused. Without create, a missing key is SD_EXIT_CONFIRM: the token
 * cannot have been signed by it. */
int token_key_load(struct token_key *key, const char *path, bool create,
		   struct sd_err *err);
void token_key_release(struct token_key *key);

/* Issue a token for digest at time now (seconds) for ttl seconds. */
int token_issue(const struct token_key *key,
		const unsigned char digest[PLAN_DIGEST_LEN], int64_t now,
		int64_t ttl, char out[TOKEN_TEXT_LEN + 1], struct sd_err *err);

enum token_verdict {
	TOKEN_VALID,
	TOKEN_MALFORMED,
	TOKEN_OTHER_KEY,
	TOKEN_OTHER_PLAN,
	TOKEN_ALTERED,
	TOKEN_FUTURE,
	TOKEN_EXPIRED,
	TOKEN_USED,
};

struct token_info {
	enum token_verdict verdict;
	unsigned char raw[TOKEN_RAW_LEN];
	int64_t issued, expires, used_at;
};

/* Decode text only: TOKEN_MALFORMED or TOKEN_VALID (not yet verified). */
int token_parse(const char *text, struct token_info *info, struct sd_err *err);

/* Verify text against key and digest at time now: 0 when valid, else -1
 * with info->verdict and a message that says which (SD_EXIT_CONFIRM). Does
 * not consult the ledger. */
int token_verify(const struct token_key *key,
		 const unsigned char digest[PLAN_DIGEST_LEN], const char *text,
		 int64_t now, struct token_info *info, struct sd_err *err);

/* The single-use ledger in state_dir (tokens.ledger, locked through
 * tokens.lock). ledger_lookup: 1 when the token was redeemed (used_at set),
 * 0 when not. ledger_redeem: records the token unless already there (then
 * 1 and used_at), atomically under an exclusive lock, pruning entries long
 * expired. A corrupt ledger is SD_EXIT_CANNOT and accepts nothing. */
int ledger_lookup(const char *state_dir, const struct token_info *info,
		  int64_t *used_at, struct sd_err *err);
int ledger_redeem(const char *state_dir, const struct token_info *info,
		  int64_t now, int64_t *used_at, struct sd_err *err);

/* Check (and with redeem, redeem) a token: token_verify, then the ledger;
 * a used token gets TOKEN_USED and "token was already used at …". */
int token_check(const struct token_key *key,
		const unsigned char digest[PLAN_DIGEST_LEN], const char *text,
		const char *state_dir, bool redeem, int64_t now,
		struct token_info *info, struct sd_err *err);

/* Seconds since the epoch. */
int64_t token_now(void);

/* "2026-11-21 16:05:03 +0000" in local time. */
const char *token_format_time(int64_t t, char *buf, size_t n);

#endif
