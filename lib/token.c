/* Confirmation tokens and their key; see token.h. The ledger is in
 * ledger.c. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base32.h"
#include "fsutil.h"
#include "paths.h"
#include "token.h"
#include "units.h"

#define HMAC_LEN   12
#define SIGNED_LEN (TOKEN_RAW_LEN - HMAC_LEN)

int64_t token_now(void)
{
	return (int64_t)time(NULL);
}

const char *token_format_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) ||
	    !strftime(buf, n, "%Y-%m-%d %H:%M:%S %z", &tm))
		snprintf(buf, n, "@%lld", (long long)t);
	return buf;
}

int token_key_path(const char *configured, char *buf, size_t n,
		   struct sd_err *err)
{
	const char *env = getenv("SAFEDEPLOY_TOKEN_KEY_FILE");
	char dir[4096];

	if (env && *env)
		configured = env;
	if (configured && *configured) {
		if ((size_t)snprintf(buf, n, "%s", configured) >= n)
			return err_set(err, SD_EXIT_CANNOT,
				       "key file path is too long");
		return 0;
	}
	if (paths_state_dir(dir, sizeof(dir), err) < 0)
		return -1;
	if ((size_t)snprintf(buf, n, "%s/token.key", dir) >= n)
		return err_set(err, SD_EXIT_CANNOT,
			       "key file path is too long");
	return 0;
}

/* Make a new key at path; losing a race with another creator is fine. */
static int key_create(const char *path, struct sd_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[32];
	char text[2 * sizeof(rnd) + 1], dir[4096], tmp[4200];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (fs_mkdirs(dir, 0700, err) < 0)
			return -1;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return err_errno(err, SD_EXIT_CANNOT,
				 "cannot get random bytes for a new key");
	for (size_t i = 0; i < sizeof(rnd); i++) {
		text[2 * i] = hex[rnd[i] >> 4];
		text[2 * i + 1] = hex[rnd[i] & 15];
	}
	text[2 * sizeof(rnd)] = '\n';
	snprintf(tmp, sizeof(tmp), "%s.new.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, SD_EXIT_CANNOT,
				 "cannot create key file '%s'", path);
	if (fchmod(fd, 0600) < 0 || fs_write_all(fd, text, sizeof(text)) < 0 ||
	    fsync(fd) < 0 || close(fd) < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot write key file '%s'",
			  path);
		unlink(tmp);
		return -1;
	}
	/* link() never replaces: whoever links first made the key. */
	if (link(tmp, path) < 0 && errno != EEXIST) {
		err_errno(err, SD_EXIT_CANNOT, "cannot create key file '%s'",
			  path);
		unlink(tmp);
		return -1;
	}
	unlink(tmp);
	return 0;
}

int token_key_load(struct token_key *key, const char *path, bool create,
		   struct sd_err *err)
{
	static const char label[] = "safedeploy-key-id";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	struct stat st;
	char *data;
	size_t len;
	int fd, r;

	memset(key, 0, sizeof(*key));
	snprintf(key->path, sizeof(key->path), "%s", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT) {
		if (!create)
			return err_set(err, SD_EXIT_CONFIRM,
				       "token was signed with another key: "
				       "there is no key at '%s' (set "
				       "SAFEDEPLOY_TOKEN_KEY_FILE to the key "
				       "the token was issued with)",
				       path);
		if (key_create(path, err) < 0)
			return -1;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	}
	if (fd < 0)
		return err_errno(err, SD_EXIT_CANNOT,
				 "cannot open key file '%s'", path);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return err_errno(err, SD_EXIT_CANNOT,
				 "cannot read key file '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, SD_EXIT_CANNOT,
			       "key file '%s' is not a regular file", path);
	}
	/* Like ssh: a key others can read or change is no secret. */
	if (st.st_mode & 077) {
		close(fd);
		return err_set(err, SD_EXIT_CANNOT,
			       "key file '%s' is accessible by others (mode "
			       "%04o); restrict it with: chmod 600 '%s'",
			       path, (unsigned)(st.st_mode & 07777), path);
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		close(fd);
		return err_set(err, SD_EXIT_CANNOT,
			       "key file '%s' belongs to uid %u, not to you",
			       path, (unsigned)st.st_uid);
	}
	r = fs_read_fd(fd, path, 4096, &data, &len, err);
	close(fd);
	if (r < 0)
		return -1;
	while (len && isspace((unsigned char)data[len - 1]))
		len--;
	if (len < TOKEN_KEY_MIN) {
		free(data);
		return err_set(
			err, SD_EXIT_CANNOT,
			"key file '%s' is too short (%zu bytes; at least "
			"%d, e.g. from 'openssl rand -hex 32')",
			path, len, TOKEN_KEY_MIN);
	}
	key->bytes = (unsigned char *)data;
	key->len = len;
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, label, sizeof(label) - 1) ||
	    !EVP_DigestUpdate(ctx, key->bytes, key->len) ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen)) {
		EVP_MD_CTX_free(ctx);
		token_key_release(key);
		return err_set(err, SD_EXIT_CANNOT, "cannot compute SHA-256");
	}
	EVP_MD_CTX_free(ctx);
	memcpy(key->id, md, sizeof(key->id));
	return 0;
}

void token_key_release(struct token_key *key)
{
	if (key->bytes) {
		OPENSSL_cleanse(key->bytes, key->len);
		free(key->bytes);
	}
	key->bytes = NULL;
	key->len = 0;
}

static int sign(const struct token_key *key,
		const unsigned char digest[PLAN_DIGEST_LEN],
		const unsigned char head[SIGNED_LEN],
		unsigned char out[HMAC_LEN])
{
	static const char label[] = "safedeploy-token-v1";
	unsigned char msg[sizeof(label) - 1 + PLAN_DIGEST_LEN + SIGNED_LEN];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	memcpy(msg, label, sizeof(label) - 1);
	memcpy(msg + sizeof(label) - 1, digest, PLAN_DIGEST_LEN);
	memcpy(msg + sizeof(label) - 1 + PLAN_DIGEST_LEN, head, SIGNED_LEN);
	if (!HMAC(EVP_sha256(), key->bytes, (int)key->len, msg, sizeof(msg), md,
		  &mdlen))
		return -1;
	memcpy(out, md, HMAC_LEN);
	return 0;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int token_issue(const struct token_key *key,
		const unsigned char digest[PLAN_DIGEST_LEN], int64_t now,
		int64_t ttl, char out[TOKEN_TEXT_LEN + 1], struct sd_err *err)
{
	unsigned char raw[TOKEN_RAW_LEN];

	if (ttl < 1 || ttl > TOKEN_MAX_TTL)
		return err_set(err, SD_EXIT_USAGE,
			       "token lifetime must be between 1s and 194d");
	if (now < 0 || now >= (1LL << 40))
		return err_set(err, SD_EXIT_CANNOT,
			       "the clock is out of range");
	raw[0] = 1;
	put_be(raw + 1, (uint64_t)now, 5);
	put_be(raw + 6, (uint64_t)ttl, 3);
	memcpy(raw + 9, key->id, 2);
	memcpy(raw + 11, digest, 2);
	if (getrandom(raw + 13, 5, 0) != 5)
		return err_errno(err, SD_EXIT_CANNOT,
				 "cannot get random bytes");
	if (sign(key, digest, raw, raw + SIGNED_LEN) < 0)
		return err_set(err, SD_EXIT_CANNOT, "cannot compute HMAC");
	base32_encode(raw, sizeof(raw), out);
	return 0;
}

/* Record why a token is refused and say so. */
#define REFUSE(verdict_, ...)                                                  \
	(info->verdict = (verdict_), err_set(err, SD_EXIT_CONFIRM, __VA_ARGS__))

int token_parse(const char *text, struct token_info *info, struct sd_err *err)
{
	char trimmed[256], shown[16];
	size_t start = 0, len = strlen(text), chars = 0;
	long bad = -1;

	memset(info, 0, sizeof(*info));
	while (start < len && isspace((unsigned char)text[start]))
		start++;
	while (len > start && isspace((unsigned char)text[len - 1]))
		len--;
	if (len - start >= sizeof(trimmed)) {
		info->verdict = TOKEN_MALFORMED;
		return err_set(err, SD_EXIT_CONFIRM,
			       "token is malformed: it has %zu characters, a "
			       "token has %d",
			       len - start, TOKEN_TEXT_LEN);
	}
	memcpy(trimmed, text + start, len - start);
	trimmed[len - start] = '\0';
	if (base32_decode(trimmed, info->raw, sizeof(info->raw), &bad, &chars) <
	    0) {
		info->verdict = TOKEN_MALFORMED;
		if (bad >= 0) {
			unsigned char c = (unsigned char)trimmed[bad];

			if (isprint(c))
				snprintf(shown, sizeof(shown), "'%c'", c);
			else
				snprintf(shown, sizeof(shown), "byte 0x%02x",
					 c);
			return err_set(err, SD_EXIT_CONFIRM,
				       "token is malformed: %s (character %ld) "
				       "cannot appear in a token",
				       shown, bad + 1);
		}
		return err_set(err, SD_EXIT_CONFIRM,
			       "token is malformed: it has %zu characters, a "
			       "token has %d",
			       chars, TOKEN_TEXT_LEN);
	}
	if (info->raw[0] != 1) {
		info->verdict = TOKEN_MALFORMED;
		return err_set(err, SD_EXIT_CONFIRM,
			       "token is malformed: unknown format version %u",
			       info->raw[0]);
	}
	info->issued = (int64_t)get_be(info->raw + 1, 5);
	info->expires = info->issued + (int64_t)get_be(info->raw + 6, 3);
	info->verdict = TOKEN_VALID;
	return 0;
}

int token_verify(const struct token_key *key,
		 const unsigned char digest[PLAN_DIGEST_LEN], const char *text,
		 int64_t now, struct token_info *info, struct sd_err *err)
{
	unsigned char mac[HMAC_LEN];
	char ago[32];

	if (token_parse(text, info, err) < 0)
		return -1;
	if (memcmp(info->raw + 9, key->id, 2))
		return REFUSE(TOKEN_OTHER_KEY,
			      "token was signed with another key (not the one "
			      "at '%s')",
			      key->path);
	if (memcmp(info->raw + 11, digest, 2))
		return REFUSE(TOKEN_OTHER_PLAN,
			      "token is for a different plan");
	if (sign(key, digest, info->raw, mac) < 0)
		return err_set(err, SD_EXIT_CANNOT, "cannot compute HMAC");
	if (CRYPTO_memcmp(mac, info->raw + SIGNED_LEN, HMAC_LEN))
		return REFUSE(TOKEN_ALTERED,
			      "token does not match its signature: it was "
			      "altered or mistyped");
	if (info->issued > now + TOKEN_MAX_SKEW)
		return REFUSE(TOKEN_FUTURE,
			      "token is from the future: issued %s from now "
			      "(check the clocks)",
			      units_format_duration((info->issued - now) * 1000,
						    ago, sizeof(ago)));
	if (now >= info->expires && now - info->expires < 1)
		return REFUSE(TOKEN_EXPIRED, "token expired just now");
	if (now >= info->expires)
		return REFUSE(
			TOKEN_EXPIRED, "token expired %s ago",
			units_format_duration((now - info->expires) * 1000, ago,
					      sizeof(ago)));
	return 0;
}

int token_check(const struct token_key *key,
		const unsigned char digest[PLAN_DIGEST_LEN], const char *text,
		const char *state_dir, bool redeem, int64_t now,
		struct token_info *info, struct sd_err *err)
{
	char when[64];
	int r;

	if (token_verify(key, digest, text, now, info, err) < 0)
		return -1;
	if (redeem)
		r = ledger_redeem(state_dir, info, now, &info->used_at, err);
	else
		r = ledger_lookup(state_dir, info, &info->used_at, err);
	if (r < 0)
		return -1;
	if (r > 0)
		return REFUSE(
			TOKEN_USED, "token was already used at %s",
			token_format_time(info->used_at, when, sizeof(when)));
	return 0;
}
