/* The Kubernetes API for verify; see k8s.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "fsutil.h"
#include "k8s.h"

#define SA_DIR	   "/var/run/secrets/kubernetes.io/serviceaccount"
#define PAGE_LIMIT 500
#define MAX_PAGES  10000

void k8s_init(struct k8s *k)
{
	memset(k, 0, sizeof(*k));
}

void k8s_release(struct k8s *k)
{
	free(k->server);
	free(k->token);
	free(k->token_file);
	free(k->ca_file);
	free(k->cert_file);
	free(k->key_file);
	free(k->ca_pem);
	free(k->cert_pem);
	free(k->key_pem);
	free(k->namespace);
	memset(k, 0, sizeof(*k));
}

/* The server URL without a trailing slash. */
static int set_server(struct k8s *k, const char *url, struct sd_err *err)
{
	size_t n = strlen(url);

	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return err_set(err, SD_EXIT_CANNOT,
			       "%s: server '%s' is not an http:// or https:// "
			       "URL",
			       k->source, url);
	while (n && url[n - 1] == '/')
		n--;
	free(k->server);
	k->server = strndup(url, n);
	return k->server ? 0 : err_set(err, SD_EXIT_CANNOT, "out of memory");
}

int k8s_from_url(struct k8s *k, const char *url, struct sd_err *err)
{
	snprintf(k->source, sizeof(k->source), "--k8s-api '%.400s'", url);
	return set_server(k, url, err);
}

/* Read a small file whole, without its trailing white space. */
static char *read_trimmed(const char *path, struct sd_err *err)
{
	char *text;
	size_t len;

	if (fs_read_file(path, 1 << 20, &text, &len, err) < 0)
		return NULL;
	while (len && isspace((unsigned char)text[len - 1]))
		text[--len] = '\0';
	return text;
}

int k8s_in_cluster(struct k8s *k, struct sd_err *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char url[512];

	if (!host || !*host || !port || !*port)
		return 1;
	snprintf(k->source, sizeof(k->source),
		 "the in-cluster service account (" SA_DIR ")");
	snprintf(url, sizeof(url), "https://%s%s%s:%s",
		 strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", port);
	if (set_server(k, url, err) < 0)
		return -1;
	k->token_file = strdup(SA_DIR "/token");
	k->ca_file = strdup(SA_DIR "/ca.crt");
	k->namespace = read_trimmed(SA_DIR "/namespace", err);
	if (!k->namespace)
		return err_prefix(err, "in-cluster service account");
	return 0;
}

/* Base64 of a kubeconfig *-data field, decoded. */
static int decode_b64(const char *in, char **out, size_t *len)
{
	size_t n = strlen(in), j = 0;
	char *clean = malloc(n + 1);
	unsigned char *buf;
	int got;

	if (!clean)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)in[i]))
			clean[j++] = in[i];
	clean[j] = '\0';
	if (j == 0 || j % 4) {
		free(clean);
		return -1;
	}
	buf = malloc(j / 4 * 3 + 1);
	got = buf ? EVP_DecodeBlock(buf, (unsigned char *)clean, (int)j) : -1;
	if (got < 0) {
		free(clean);
		free(buf);
		return -1;
	}
	/* EVP_DecodeBlock counts the padding as data. */
	if (j >= 1 && clean[j - 1] == '=')
		got--;
	if (j >= 2 && clean[j - 2] == '=')
		got--;
	free(clean);
	buf[got] = '\0';
	*out = (char *)buf;
	*len = (size_t)got;
	return 0;
}

/* The entry named name in a kubeconfig list of {name, KEY: {...}}. */
static json_t *named(json_t *list, const char *name, const char *key)
{
	json_t *item;
	size_t i;

	json_array_foreach(list, i, item)
	{
		const char *n =
			json_string_value(json_object_get(item, "name"));

		if (n && !strcmp(n, name))
			return json_object_get(item, key);
	}
	return NULL;
}

/* A path from a kubeconfig, relative to the kubeconfig's directory. */
static char *relative_to(const char *config, const char *path)
{
	const char *slash = strrchr(config, '/');
	size_t n;
	char *out;

	if (!path)
		return NULL;
	if (path[0] == '/' || !slash)
		return strdup(path);
	n = (size_t)(slash - config) + strlen(path) + 2;
	out = malloc(n);
	if (out)
		snprintf(out, n, "%.*s/%s", (int)(slash - config), config,
			 path);
	return out;
}

static int pem_field(struct k8s *k, json_t *obj, const char *key, char **pem,
		     size_t *len, struct sd_err *err)
{
	const char *b64 = json_string_value(json_object_get(obj, key));

	if (!b64)
		return 0;
	if (decode_b64(b64, pem, len) < 0)
		return err_set(err, SD_EXIT_CANNOT, "%s: '%s' is not base64",
			       k->source, key);
	return 0;
}

int k8s_from_kubeconfig(struct k8s *k, const char *path, const char *context,
			struct sd_err *err)
{
	char file[PATH_MAX], *text = NULL;
	const char *env = getenv("KUBECONFIG");
	json_t *doc = NULL, *ctx, *cluster, *user;
	const char *cname, *uname, *s;
	size_t len;
	int rc = -1;

	if (path) {
		snprintf(file, sizeof(file), "%s", path);
	} else if (env && *env) {
		snprintf(file, sizeof(file), "%.*s", (int)strcspn(env, ":"),
			 env);
	} else {
		const char *home = getenv("HOME");

		snprintf(file, sizeof(file), "%s/.kube/config",
			 home ? home : "");
	}
	snprintf(k->source, sizeof(k->source), "kubeconfig '%.400s'", file);
	if (fs_read_file(file, 16 << 20, &text, &len, err) < 0)
		return err_prefix(err, "no Kubernetes API (not in a cluster, "
				       "and no kubeconfig)");
	if (yaml_to_json(text, len, file, NULL, &doc, NULL, err) < 0)
		goto out;
	if (!context)
		context = json_string_value(
			json_object_get(doc, "current-context"));
	if (!context || !*context) {
		err_set(err, SD_EXIT_CANNOT,
			"%s has no current-context (give one with --context)",
			k->source);
		goto out;
	}
	ctx = named(json_object_get(doc, "contexts"), context, "context");
	if (!json_is_object(ctx)) {
		err_set(err, SD_EXIT_CANNOT, "%s: no context named '%s'",
			k->source, context);
		goto out;
	}
	cname = json_string_value(json_object_get(ctx, "cluster"));
	uname = json_string_value(json_object_get(ctx, "user"));
	cluster = cname ? named(json_object_get(doc, "clusters"), cname,
				"cluster")
			: NULL;
	if (!json_is_object(cluster)) {
		err_set(err, SD_EXIT_CANNOT,
			"%s: context '%s' names no cluster that is defined",
			k->source, context);
		goto out;
	}
	s = json_string_value(json_object_get(cluster, "server"));
	if (!s) {
		err_set(err, SD_EXIT_CANNOT, "%s: cluster '%s' has no server",
			k->source, cname);
		goto out;
	}
	if (set_server(k, s, err) < 0)
		goto out;
	k->insecure = json_is_true(
		json_object_get(cluster, "insecure-skip-tls-verify"));
	k->ca_file =
		relative_to(file, json_string_value(json_object_get(
					  cluster, "certificate-authority")));
	if (pem_field(k, cluster, "certificate-authority-data", &k->ca_pem,
		      &k->ca_pem_len, err) < 0)
		goto out;
	s = json_string_value(json_object_get(ctx, "namespace"));
	k->namespace = s ? strdup(s) : NULL;
	user = uname ? named(json_object_get(doc, "users"), uname, "user")
		     : NULL;
	if (uname && !json_is_object(user)) {
		err_set(err, SD_EXIT_CANNOT,
			"%s: context '%s' names user '%s', which is not defined",
			k->source, context, uname);
		goto out;
	}
	if (json_object_get(user, "exec") ||
	    json_object_get(user, "auth-provider")) {
		err_set(err, SD_EXIT_CANNOT,
			"%s: user '%s' gets credentials from a plugin, which "
			"safedeploy does not run; run 'kubectl proxy' and give "
			"--k8s-api http://127.0.0.1:8001",
			k->source, uname);
		goto out;
	}
	s = json_string_value(json_object_get(user, "token"));
	k->token = s ? strdup(s) : NULL;
	k->token_file = relative_to(
		file, json_string_value(json_object_get(user, "tokenFile")));
	k->cert_file = relative_to(file, json_string_value(json_object_get(
						 user, "client-certificate")));
	k->key_file = relative_to(
		file, json_string_value(json_object_get(user, "client-key")));
	if (pem_field(k, user, "client-certificate-data", &k->cert_pem,
		      &k->cert_pem_len, err) < 0 ||
	    pem_field(k, user, "client-key-data", &k->key_pem, &k->key_pem_len,
		      err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(doc);
	free(text);
	return rc;
}

int k8s_http_options(const struct k8s *k, struct http_options *o)
{
	if (k->ca_file)
		o->cacert = k->ca_file;
	if (k->cert_file)
		o->client_cert = k->cert_file;
	if (k->key_file)
		o->client_key = k->key_file;
	o->ca_pem = k->ca_pem;
	o->ca_pem_len = k->ca_pem_len;
	o->cert_pem = k->cert_pem;
	o->cert_pem_len = k->cert_pem_len;
	o->key_pem = k->key_pem;
	o->key_pem_len = k->key_pem_len;
	if (k->insecure)
		o->insecure = true;
	return 0;
}

int k8s_auth_header(const struct k8s *k, char *buf, size_t n,
		    struct sd_err *err)
{
	char *token = NULL;

	buf[0] = '\0';
	if (k->token_file) {
		token = read_trimmed(k->token_file, err);
		if (!token)
			return err_prefix(err, "bearer token of %s", k->source);
	}
	if (token || k->token)
		snprintf(buf, n, "Authorization: Bearer %s",
			 token ? token : k->token);
	free(token);
	return 0;
}

/* What the API said in its Status object, if anything. */
static const char *status_message(json_t *doc)
{
	const char *m = json_string_value(json_object_get(doc, "message"));

	return m ? m : "";
}

/* GET one page. */
static int get_page(struct k8s *k, const struct http_options *base,
		    const char *url, int64_t deadline_ms, json_t **page,
		    long *status, struct sd_err *err)
{
	struct http_options o = *base;
	struct http_result r = {0};
	struct http_client *c;
	char auth[8192];
	const char *headers[1];
	json_error_t jerr;
	int rc;

	if (k8s_auth_header(k, auth, sizeof(auth), err) < 0)
		return -1;
	k8s_http_options(k, &o);
	headers[0] = auth;
	o.headers = headers;
	o.nheaders = auth[0] ? 1 : 0;
	o.concurrency = 1;
	o.max_body = 256u << 20;
	o.deadline_ms = deadline_ms;
	c = http_client_new(&o, err);
	if (!c)
		return -1;
	rc = http_get_all(c, &url, 1, &r, err);
	http_client_free(c);
	if (rc < 0)
		return -1;
	if (r.failure != HTTP_OK) {
		err_set(err, SD_EXIT_CANNOT,
			"cannot reach the Kubernetes API at '%s' (%s): %s",
			k->server, k->source, r.error);
		http_result_release(&r);
		return -1;
	}
	*status = r.status;
	*page = r.body ? json_loadb(r.body, r.len, 0, &jerr) : NULL;
	http_result_release(&r);
	if (!*page && r.status == 200)
		return err_set(err, SD_EXIT_CANNOT,
			       "the Kubernetes API at '%s' answered with "
			       "something that is not JSON",
			       k->server);
	return 0;
}

int k8s_list_pods(struct k8s *k, const struct http_options *base,
		  const char *ns, const char *selector, long chunk,
		  int64_t deadline_ms, json_t **podlist, struct sd_err *err)
{
	json_t *items = json_array();
	char *cont = NULL;
	bool restarted = false;
	int rc = -1;

	*podlist = NULL;
	for (int pages = 0; pages < MAX_PAGES; pages++) {
		char *esc_sel = selector ? http_escape(selector) : NULL;
		char *esc_cont = cont ? http_escape(cont) : NULL;
		char *esc_ns = ns ? http_escape(ns) : NULL;
		size_t n = strlen(k->server) + 256 +
			   (esc_sel ? strlen(esc_sel) : 0) +
			   (esc_cont ? strlen(esc_cont) : 0) +
			   (esc_ns ? strlen(esc_ns) : 0);
		char *url = malloc(n);
		json_t *page = NULL, *more;
		long status = 0;
		const char *next;
		int got;

		if (url)
			snprintf(url, n, "%s/api/v1%s%s/pods?limit=%ld%s%s%s%s",
				 k->server, esc_ns ? "/namespaces/" : "",
				 esc_ns ? esc_ns : "",
				 chunk > 0 ? chunk : PAGE_LIMIT,
				 esc_sel ? "&labelSelector=" : "",
				 esc_sel ? esc_sel : "",
				 esc_cont ? "&continue=" : "",
				 esc_cont ? esc_cont : "");
		free(esc_sel);
		free(esc_cont);
		free(esc_ns);
		if (!url) {
			err_set(err, SD_EXIT_CANNOT, "out of memory");
			goto out;
		}
		got = get_page(k, base, url, deadline_ms, &page, &status, err);
		free(url);
		if (got < 0)
			goto out;
		if (status == 410 && cont && !restarted) {
			/* The continue token expired: the list must start over
			 * to be consistent. Once. */
			json_decref(page);
			json_array_clear(items);
			free(cont);
			cont = NULL;
			restarted = true;
			continue;
		}
		if (status != 200) {
			const char *why =
				status == 401	? " (credentials refused)"
				: status == 403 ? " (forbidden)"
				: status == 410 ? " (the list expired twice)"
						: "";

			err_set(err, SD_EXIT_CANNOT,
				"the Kubernetes API at '%s' answered HTTP %ld%s "
				"to listing pods with %s: %s",
				k->server, status, why, k->source,
				status_message(page));
			json_decref(page);
			goto out;
		}
		more = json_object_get(page, "items");
		if (!json_is_array(more)) {
			json_decref(page);
			err_set(err, SD_EXIT_CANNOT,
				"the Kubernetes API at '%s' answered a pod list "
				"without items",
				k->server);
			goto out;
		}
		json_array_extend(items, more);
		next = json_string_value(json_object_get(
			json_object_get(page, "metadata"), "continue"));
		free(cont);
		cont = next && *next ? strdup(next) : NULL;
		json_decref(page);
		if (!cont) {
			*podlist = json_pack("{s:s, s:O}", "kind", "PodList",
					     "items", items);
			rc = 0;
			goto out;
		}
	}
	err_set(err, SD_EXIT_CANNOT, "the pod list did not end after %d pages",
		MAX_PAGES);
out:
	free(cont);
	json_decref(items);
	return rc;
}

char *k8s_proxy_url(const struct k8s *k, const char *ns, const char *name,
		    long port, const char *path)
{
	size_t n = strlen(k->server) + strlen(ns) + strlen(name) +
		   strlen(path) + 96;
	char *url = malloc(n);

	if (url)
		snprintf(url, n,
			 "%s/api/v1/namespaces/%s/pods/%s:%ld/proxy%s%s",
			 k->server, ns, name, port, path[0] == '/' ? "" : "/",
			 path);
	return url;
}
