/* Confirming a plan: a token, or a code typed back on the terminal; see
 * confirm.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "confirm.h"
#include "fsutil.h"
#include "shquote.h"

#define CODE_LEN 6
#define TRIES	 3

int confirm_rerun_line(char *buf, size_t n, char *const *argv, int argc,
		       int insert_at, const char *token)
{
	if (!n)
		return -1;
	buf[0] = '\0';
	for (int i = 0; i <= argc; i++) {
		if (i == insert_at &&
		    (shquote_append(buf, n, "--confirm") < 0 ||
		     shquote_append(buf, n, token) < 0))
			return -1;
		if (i == argc)
			break;
		if (i < insert_at && !strcmp(argv[i], "--confirm")) {
			i++; /* and its value */
			continue;
		}
		if (i < insert_at && !strncmp(argv[i], "--confirm=", 10))
			continue;
		if (shquote_append(buf, n, argv[i]) < 0)
			return -1;
	}
	return 0;
}

static void tty_print(int fd, const char *s)
{
	fs_write_all(fd, s, strlen(s));
}

/* Read one line from the terminal within ms; -1 on timeout or error. */
static int tty_read_line(int fd, char *buf, size_t n, int ms)
{
	size_t used = 0;

	while (used + 1 < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char c;
		ssize_t r;

		if (poll(&p, 1, ms) <= 0)
			return -1;
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return used ? 0 : -1;
		if (c == '\n' || c == '\r')
			break;
		buf[used++] = c;
	}
	buf[used] = '\0';
	return 0;
}

static bool code_matches(const char *typed, const char *code)
{
	size_t j = 0;

	for (const char *p = typed; *p; p++) {
		char c = (char)toupper((unsigned char)*p);

		if (c == '-' || c == ' ')
			continue;
		if (c == 'O')
			c = '0';
		if (c == 'I' || c == 'L')
			c = '1';
		if (j >= CODE_LEN || c != code[j])
			return false;
		j++;
	}
	return j == CODE_LEN;
}

static int ask(int fd, const struct confirm_request *req, struct sd_err *err)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char rnd[CODE_LEN];
	char code[CODE_LEN + 1], line[256], prompt[256];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return err_errno(err, SD_EXIT_CANNOT,
				 "cannot get random bytes");
	for (int i = 0; i < CODE_LEN; i++)
		code[i] = alphabet[rnd[i] & 31];
	code[CODE_LEN] = '\0';
	if (req->summary) {
		tty_print(fd, req->summary);
		if (req->summary[0] &&
		    req->summary[strlen(req->summary) - 1] != '\n')
			tty_print(fd, "\n");
	}
	for (int tries = TRIES; tries > 0; tries--) {
		snprintf(prompt, sizeof(prompt),
			 "To go ahead, type %.3s-%.3s (or press Enter to "
			 "cancel): ",
			 code, code + 3);
		tty_print(fd, prompt);
		if (tty_read_line(fd, line, sizeof(line),
				  (int)(req->ttl > 0 ? req->ttl * 1000 : -1)) <
		    0) {
			tty_print(fd, "\n");
			return err_set(err, SD_EXIT_CONFIRM,
				       "not confirmed: no answer; nothing was "
				       "done");
		}
		if (!line[0])
			return err_set(err, SD_EXIT_CONFIRM,
				       "cancelled; nothing was done");
		if (code_matches(line, code))
			return 0;
		if (tries > 1) {
			snprintf(prompt, sizeof(prompt),
				 "That is not the code (%d %s left).\n",
				 tries - 1, tries - 1 == 1 ? "try" : "tries");
			tty_print(fd, prompt);
		}
	}
	return err_set(err, SD_EXIT_CONFIRM,
		       "not confirmed: the code was typed wrong %d times; "
		       "nothing was done",
		       TRIES);
}

int confirm_plan(const struct confirm_request *req,
		 struct confirm_result *result, struct sd_err *err)
{
	struct token_info info;
	int fd, r;

	memset(result, 0, sizeof(*result));
	if (req->token)
		return token_check(req->key, req->plan->digest, req->token,
				   req->state_dir, true, token_now(), &info,
				   err);
	fd = open(req->tty ? req->tty : "/dev/tty",
		  O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 && isatty(fd)) {
		result->interactive = true;
		r = ask(fd, req, err);
		close(fd);
		return r;
	}
	if (fd >= 0)
		close(fd);
	/* No terminal: fail closed, and say exactly how to go ahead. */
	if (token_issue(req->key, req->plan->digest, token_now(), req->ttl,
			result->token, err) < 0)
		return -1;
	if (confirm_rerun_line(result->rerun, sizeof(result->rerun), req->argv,
			       req->argc, req->insert_at, result->token) < 0)
		return err_set(err, SD_EXIT_CANNOT, "command line too long");
	return err_set(err, SD_EXIT_CONFIRM,
		       "confirmation required and no terminal to ask on; "
		       "nothing was done");
}
