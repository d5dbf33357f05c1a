/* Plans and their canonical digest; see plan.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fsutil.h"
#include "plan.h"

char *plan_canonical(const json_t *doc)
{
	return json_dumps(doc, PLAN_CANONICAL);
}

/* The canonical text goes into the digest through a small buffer, never
 * whole into memory: jansson hands it over a token at a time. */
struct digest_sink {
	EVP_MD_CTX *ctx;
	size_t used;
	char buf[64 * 1024];
};

static int digest_flush(struct digest_sink *d)
{
	int ok = EVP_DigestUpdate(d->ctx, d->buf, d->used);

	d->used = 0;
	return ok ? 0 : -1;
}

static int digest_chunk(const char *buf, size_t size, void *data)
{
	struct digest_sink *d = data;

	if (d->used + size > sizeof(d->buf) && digest_flush(d) < 0)
		return -1;
	if (size > sizeof(d->buf))
		return EVP_DigestUpdate(d->ctx, buf, size) ? 0 : -1;
	memcpy(d->buf + d->used, buf, size);
	d->used += size;
	return 0;
}

int plan_from_json(struct plan *plan, json_t *doc, struct sd_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned int len = 0;
	struct digest_sink *sink;
	int ok;

	memset(plan, 0, sizeof(*plan));
	if (!json_is_object(doc))
		return err_set(err, SD_EXIT_CANNOT, "not a JSON object");
	if (json_object_size(doc) == 0)
		return err_set(err, SD_EXIT_CANNOT,
			       "empty: it says nothing to confirm");
	sink = malloc(sizeof(*sink));
	if (!sink)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	sink->used = 0;
	sink->ctx = EVP_MD_CTX_new();
	ok = sink->ctx && EVP_DigestInit_ex(sink->ctx, EVP_sha256(), NULL) &&
	     json_dump_callback(doc, digest_chunk, sink, PLAN_CANONICAL) == 0 &&
	     digest_flush(sink) == 0 &&
	     EVP_DigestFinal_ex(sink->ctx, plan->digest, &len) &&
	     len == PLAN_DIGEST_LEN;
	EVP_MD_CTX_free(sink->ctx);
	free(sink);
	if (!ok)
		return err_set(err, SD_EXIT_CANNOT, "cannot compute SHA-256");
	for (size_t i = 0; i < PLAN_DIGEST_LEN; i++) {
		plan->hex[2 * i] = hex[plan->digest[i] >> 4];
		plan->hex[2 * i + 1] = hex[plan->digest[i] & 15];
	}
	plan->hex[2 * PLAN_DIGEST_LEN] = '\0';
	plan->doc = json_incref(doc);
	return 0;
}

int plan_parse(struct plan *plan, const char *text, size_t len,
	       const char *name, struct sd_err *err)
{
	json_error_t jerr;
	json_t *doc;
	size_t i = 0;
	int r;

	memset(plan, 0, sizeof(*plan));
	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	if (i == len)
		return err_set(err, SD_EXIT_CANNOT,
			       "plan '%s': empty: it says nothing to confirm",
			       name);
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return err_set(err, SD_EXIT_CANNOT,
			       "plan '%s' is not valid JSON: line %d, column "
			       "%d: %s",
			       name, jerr.line, jerr.column, jerr.text);
	r = plan_from_json(plan, doc, err);
	json_decref(doc);
	if (r < 0)
		return err_prefix(err, "plan '%s'", name);
	return 0;
}

int plan_load(struct plan *plan, const char *path, struct sd_err *err)
{
	const char *name = strcmp(path, "-") ? path : "standard input";
	char *text;
	size_t len;
	int r;

	memset(plan, 0, sizeof(*plan));
	if (fs_read_file(path, PLAN_MAX_SIZE, &text, &len, err) < 0)
		return -1;
	r = plan_parse(plan, text, len, name, err);
	free(text);
	return r;
}

void plan_release(struct plan *plan)
{
	json_decref(plan->doc);
	plan->doc = NULL;
}
