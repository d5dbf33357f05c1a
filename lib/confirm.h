/* Confirming a plan before a destructive operation (DESIGN.md §1). With a
 * token (--confirm), the token is checked and redeemed. Without one, on a
 * terminal the user is shown a short random code to type back; with no
 * terminal the helper fails closed and returns the exact command line to
 * re-run with --confirm TOKEN. The terminal is /dev/tty, never stdin, so a
 * pipe cannot answer for the user. */
#ifndef SD_CONFIRM_H
#define SD_CONFIRM_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "plan.h"
#include "token.h"

struct confirm_request {
	const struct plan *plan;
	const char *summary; /* shown above the prompt; may be NULL */
	char *const *argv;   /* the command as the user ran it */
	int argc;
	int insert_at;	   /* where "--confirm TOKEN" goes in argv */
	const char *token; /* the --confirm value, or NULL */
	int64_t ttl;	   /* seconds a token or a prompt stays valid */
	const struct token_key *key;
	const char *state_dir; /* for the ledger */
	const char *tty;       /* NULL for /dev/tty */
};

struct confirm_result {
	bool interactive;		/* the user typed the code back */
	char token[TOKEN_TEXT_LEN + 1]; /* issued, when no terminal */
	char rerun[8192];		/* the re-run line, when no terminal */
};

/* 0 when confirmed. -1 otherwise, with err->code SD_EXIT_CONFIRM and a
 * message that says why (token refused, wrong code, cancelled, no terminal:
 * then result->rerun holds the command to run). Other codes for I/O. */
int confirm_plan(const struct confirm_request *req,
		 struct confirm_result *result, struct sd_err *err);

/* The re-run line: argv with "--confirm TOKEN" at insert_at, and without
 * any --confirm it had, quoted for the shell. */
int confirm_rerun_line(char *buf, size_t n, char *const *argv, int argc,
		       int insert_at, const char *token);

#endif
