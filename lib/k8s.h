/* The Kubernetes API, as far as verify needs it: where it is and how to
 * authenticate (a URL such as `kubectl proxy`, the in-cluster service
 * account, or a kubeconfig), listing a namespace's pods page by page, and
 * the pod proxy path. HTTP goes through lib/http.c. */
#ifndef SD_K8S_H
#define SD_K8S_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "http.h"

struct k8s {
	char *server;	  /* "https://host:port", no trailing slash */
	char *token;	  /* a bearer token given inline */
	char *token_file; /* re-read before every request: tokens rotate */
	char *ca_file, *cert_file, *key_file;
	char *ca_pem, *cert_pem, *key_pem; /* decoded *-data fields */
	size_t ca_pem_len, cert_pem_len, key_pem_len;
	bool insecure;
	char *namespace;  /* the default namespace of the context or account */
	char source[512]; /* where this came from, for messages */
};

void k8s_init(struct k8s *k);
void k8s_release(struct k8s *k);

/* An API at url with no credentials, e.g. `kubectl proxy`. */
int k8s_from_url(struct k8s *k, const char *url, struct sd_err *err);

/* The in-cluster service account: KUBERNETES_SERVICE_HOST and _PORT, and
 * /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}.
 * Returns 1 (nothing set up) when not running in a cluster. */
int k8s_in_cluster(struct k8s *k, struct sd_err *err);

/* A kubeconfig: path, else the first file of $KUBECONFIG, else
 * ~/.kube/config; context, else its current-context. Errors name the file
 * and what is missing or unsupported. */
int k8s_from_kubeconfig(struct k8s *k, const char *path, const char *context,
			struct sd_err *err);

/* Connection settings and the Authorization header (the token file is
 * read now) for requests to the API. */
int k8s_http_options(const struct k8s *k, struct http_options *o);
int k8s_auth_header(const struct k8s *k, char *buf, size_t n,
		    struct sd_err *err);

/* The pods of namespace ns (all namespaces when NULL) matching selector
 * (may be NULL), as a PodList document, reading every page of chunk pods
 * (limit and
 * continue; an expired continue token restarts the list once). 401, 403,
 * 410 and transport failures are SD_EXIT_CANNOT errors that say which. */
int k8s_list_pods(struct k8s *k, const struct http_options *base,
		  const char *ns, const char *selector, long chunk,
		  int64_t deadline_ms, json_t **podlist, struct sd_err *err);

/* SERVER/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH; malloc'd. */
char *k8s_proxy_url(const struct k8s *k, const char *ns, const char *name,
		    long port, const char *path);

#endif
