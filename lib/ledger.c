/* The single-use ledger of redeemed tokens: one line per token, read and
 * rewritten whole under an exclusive flock, so that of two processes
 * redeeming the same token exactly one succeeds. See token.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fsutil.h"
#include "token.h"

#define ID_HEX 32
/* Entries stay this long after their token expired, so that a clock set
 * back cannot bring a redeemed token back to life. */
#define KEEP_AFTER_EXPIRY (7 * 86400)
#define LEDGER_MAX	  (16u << 20)

struct entry {
	char id[ID_HEX + 1];
	int64_t used_at, expires;
};

struct ledger {
	char path[4200], lock_path[4200];
	int lock_fd;
	struct entry *entries;
	size_t n;
};

static void token_id(const struct token_info *info, char out[ID_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_Digest(info->raw, sizeof(info->raw), md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < ID_HEX / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[ID_HEX] = '\0';
}

static int corrupt(struct ledger *l, int line, struct sd_err *err)
{
	return err_set(
		err, SD_EXIT_CANNOT,
		"token ledger '%s' is corrupt at line %d; no token can "
		"be redeemed until it is repaired or moved aside (tokens "
		"redeemed before could then be used again until they "
		"expire)",
		l->path, line);
}

static int parse_int(const char **p, int64_t *v)
{
	char *end;
	long long x;

	if (!isdigit((unsigned char)**p))
		return -1;
	errno = 0;
	x = strtoll(*p, &end, 10);
	if (errno)
		return -1;
	*v = x;
	*p = end;
	return 0;
}

static int ledger_parse(struct ledger *l, const char *text, struct sd_err *err)
{
	const char *p = text;
	size_t cap = 0;
	int line = 0;

	while (*p) {
		const char *eol = strchr(p, '\n');
		struct entry e;

		line++;
		if (!eol)
			return corrupt(l, line, err); /* a torn last line */
		if (*p == '#') {
			p = eol + 1;
			continue;
		}
		for (int i = 0; i < ID_HEX; i++) {
			if (!isxdigit((unsigned char)p[i]) ||
			    isupper((unsigned char)p[i]))
				return corrupt(l, line, err);
			e.id[i] = p[i];
		}
		e.id[ID_HEX] = '\0';
		p += ID_HEX;
		if (*p++ != ' ' || parse_int(&p, &e.used_at) < 0 ||
		    *p++ != ' ' || parse_int(&p, &e.expires) < 0 || p != eol)
			return corrupt(l, line, err);
		if (l->n == cap) {
			struct entry *bigger;

			cap = cap ? 2 * cap : 64;
			bigger = realloc(l->entries, cap * sizeof(*bigger));
			if (!bigger)
				return err_set(err, SD_EXIT_CANNOT,
					       "out of memory");
			l->entries = bigger;
		}
		l->entries[l->n++] = e;
		p = eol + 1;
	}
	return 0;
}

static void ledger_close(struct ledger *l)
{
	if (l->lock_fd >= 0)
		close(l->lock_fd); /* releases the flock */
	l->lock_fd = -1;
	free(l->entries);
	l->entries = NULL;
	l->n = 0;
}

/* Lock and read. Returns 1 when there is no state directory and create is
 * false (nothing was ever redeemed there). */
static int ledger_open(struct ledger *l, const char *state_dir, bool create,
		       struct sd_err *err)
{
	char *text = NULL, *nul;
	size_t len = 0;
	int r;

	memset(l, 0, sizeof(*l));
	l->lock_fd = -1;
	snprintf(l->path, sizeof(l->path), "%s/tokens.ledger", state_dir);
	snprintf(l->lock_path, sizeof(l->lock_path), "%s/tokens.lock",
		 state_dir);
	if (create && fs_mkdirs(state_dir, 0700, err) < 0)
		return err_prefix(err, "cannot record the token");
	l->lock_fd =
		open(l->lock_path,
		     (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0600);
	if (l->lock_fd < 0 && !create && errno == ENOENT &&
	    access(l->path, F_OK) < 0)
		return 1;
	if (l->lock_fd < 0)
		return err_errno(err, SD_EXIT_CANNOT,
				 "cannot open token ledger lock '%s'",
				 l->lock_path);
	while ((r = flock(l->lock_fd, create ? LOCK_EX : LOCK_SH)) < 0 &&
	       errno == EINTR)
		;
	if (r < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot lock '%s'",
			  l->lock_path);
		ledger_close(l);
		return -1;
	}
	if (fs_read_file(l->path, LEDGER_MAX, &text, &len, err) < 0) {
		if (errno == ENOENT)
			return 0;
		ledger_close(l);
		return -1;
	}
	/* A NUL byte (a file of zeros after a crash, say) ended the text
	 * there: a ledger of zeros read as empty, every token in it could be
	 * redeemed again, and the rewrite dropped them (tests/faults.bats).
	 * It is corrupt, at the line that holds it. */
	nul = memchr(text, '\0', len);
	if (nul) {
		int line = 1;

		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		r = corrupt(l, line, err);
	} else {
		r = ledger_parse(l, text, err);
	}
	free(text);
	if (r < 0) {
		ledger_close(l);
		return -1;
	}
	return 0;
}

static const struct entry *ledger_find(const struct ledger *l,
				       const char id[ID_HEX + 1])
{
	for (size_t i = 0; i < l->n; i++)
		if (!memcmp(l->entries[i].id, id, ID_HEX))
			return &l->entries[i];
	return NULL;
}

int ledger_lookup(const char *state_dir, const struct token_info *info,
		  int64_t *used_at, struct sd_err *err)
{
	char id[ID_HEX + 1];
	const struct entry *e;
	struct ledger l;
	int r = ledger_open(&l, state_dir, false, err);

	if (r < 0)
		return -1;
	if (r > 0)
		return 0;
	token_id(info, id);
	e = ledger_find(&l, id);
	if (e)
		*used_at = e->used_at;
	ledger_close(&l);
	return e ? 1 : 0;
}

int ledger_redeem(const char *state_dir, const struct token_info *info,
		  int64_t now, int64_t *used_at, struct sd_err *err)
{
	static const char head[] = "# safedeploy: redeemed confirmation tokens "
				   "(id, redeemed at, expires at)\n";
	char id[ID_HEX + 1];
	const struct entry *e;
	struct ledger l;
	size_t cap, used;
	char *out;
	int r;

	if (ledger_open(&l, state_dir, true, err) < 0)
		return -1;
	token_id(info, id);
	e = ledger_find(&l, id);
	if (e) {
		*used_at = e->used_at;
		ledger_close(&l);
		return 1;
	}
	cap = sizeof(head) + (l.n + 1) * (ID_HEX + 48);
	out = malloc(cap);
	if (!out) {
		ledger_close(&l);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	used = (size_t)snprintf(out, cap, "%s", head);
	for (size_t i = 0; i < l.n; i++) {
		if (l.entries[i].expires + KEEP_AFTER_EXPIRY < now)
			continue;
		used += (size_t)snprintf(out + used, cap - used,
					 "%s %" PRId64 " %" PRId64 "\n",
					 l.entries[i].id, l.entries[i].used_at,
					 l.entries[i].expires);
	}
	used += (size_t)snprintf(out + used, cap - used,
				 "%s %" PRId64 " %" PRId64 "\n", id, now,
				 info->expires);
	r = fs_write_atomic(l.path, out, used, 0600, err);
	free(out);
	ledger_close(&l);
	if (r < 0)
		return err_prefix(err, "cannot record the token");
	*used_at = now;
	return 0;
}
