/* Unit tests for lib/k8s.c: kubeconfig reading, the in-cluster check,
 * bearer tokens read again when they rotate, and the pod proxy path. */
#include <fcntl.h>
#include <unistd.h>

#include "fsutil.h"
#include "k8s.h"
#include "unit.h"

static char tmp[256];

static const char *put(const char *name, const char *text)
{
	static char path[512];
	struct sd_err err = {0};

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	CHECK_INT(fs_write_atomic(path, text, strlen(text), 0600, &err), 0);
	return path;
}

static void kubeconfig_with_token_file_and_ca_data(void)
{
	struct sd_err err = {0};
	struct k8s k;
	char auth[256], path[512];

	put("token", "first-token\n");
	/* "LS0tLS1CRUdJTg==" is base64 of "-----BEGIN". */
	snprintf(path, sizeof(path), "%s",
		 put("kc.yml",
		     "current-context: ci\n"
		     "contexts:\n"
		     "- name: other\n"
		     "  context: {cluster: x, user: x}\n"
		     "- name: ci\n"
		     "  context: {cluster: c, user: u, namespace: prod}\n"
		     "clusters:\n"
		     "- name: c\n"
		     "  cluster:\n"
		     "    server: https://10.0.0.1:6443/\n"
		     "    certificate-authority-data: LS0tLS1CRUdJTg==\n"
		     "users:\n"
		     "- name: u\n"
		     "  user: {tokenFile: token}\n"));
	k8s_init(&k);
	CHECK_INT(k8s_from_kubeconfig(&k, path, NULL, &err), 0);
	CHECK_STR(k.server, "https://10.0.0.1:6443");
	CHECK_STR(k.namespace, "prod");
	CHECK_INT(k.ca_pem_len, 10);
	CHECK(k.ca_pem && !memcmp(k.ca_pem, "-----BEGIN", 10));
	CHECK_CONTAINS(k.token_file, "/token"); /* relative to the kubeconfig */
	CHECK_INT(k8s_auth_header(&k, auth, sizeof(auth), &err), 0);
	CHECK_STR(auth, "Authorization: Bearer first-token");
	/* The token rotates: the next request uses the new one. */
	put("token", "second-token\n");
	CHECK_INT(k8s_auth_header(&k, auth, sizeof(auth), &err), 0);
	CHECK_STR(auth, "Authorization: Bearer second-token");
	{
		char *url = k8s_proxy_url(&k, "prod", "web-1", 8080,
					  "/actuator/info");

		CHECK_STR(url, "https://10.0.0.1:6443/api/v1/namespaces/prod/"
			       "pods/web-1:8080/proxy/actuator/info");
		free(url);
	}
	k8s_release(&k);
	/* Another context by name. */
	k8s_init(&k);
	CHECK_INT(k8s_from_kubeconfig(&k, path, "other", &err), -1);
	CHECK_CONTAINS(err.msg, "context 'other' names no cluster");
	k8s_release(&k);
}

static void kubeconfig_errors(void)
{
	struct sd_err err = {0};
	struct k8s k;
	char path[512];

	snprintf(path, sizeof(path), "%s",
		 put("bad.yml", "current-context: ci\n"
				"contexts: [{name: ci, context: {cluster: c, "
				"user: u}}]\n"
				"clusters: [{name: c, cluster: {server: "
				"'ftp://x'}}]\n"));
	k8s_init(&k);
	CHECK_INT(k8s_from_kubeconfig(&k, path, NULL, &err), -1);
	CHECK_CONTAINS(err.msg,
		       "server 'ftp://x' is not an http:// or https://");
	k8s_release(&k);
	snprintf(path, sizeof(path), "%s",
		 put("nouser.yml", "current-context: ci\n"
				   "contexts: [{name: ci, context: {cluster: "
				   "c, user: ghost}}]\n"
				   "clusters: [{name: c, cluster: {server: "
				   "'https://x'}}]\n"));
	k8s_init(&k);
	CHECK_INT(k8s_from_kubeconfig(&k, path, NULL, &err), -1);
	CHECK_CONTAINS(err.msg, "names user 'ghost', which is not defined");
	k8s_release(&k);
	snprintf(path, sizeof(path), "%s",
		 put("noserver.yml", "current-context: ci\n"
				     "contexts: [{name: ci, context: {cluster: "
				     "c}}]\n"
				     "clusters: [{name: c, cluster: {}}]\n"));
	k8s_init(&k);
	CHECK_INT(k8s_from_kubeconfig(&k, path, NULL, &err), -1);
	CHECK_CONTAINS(err.msg, "cluster 'c' has no server");
	k8s_release(&k);
}

static void not_in_a_cluster_without_the_environment(void)
{
	struct sd_err err = {0};
	struct k8s k;

	unsetenv("KUBERNETES_SERVICE_HOST");
	k8s_init(&k);
	CHECK_INT(k8s_in_cluster(&k, &err), 1);
	CHECK(k.server == NULL);
	k8s_release(&k);
	CHECK_INT(k8s_from_url(&k, "http://127.0.0.1:8001/", &err), 0);
	CHECK_STR(k.server, "http://127.0.0.1:8001");
	k8s_release(&k);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "%s", unit_mkdtemp("k8s"));
	RUN(kubeconfig_with_token_file_and_ca_data,
	    "k8s: kubeconfig context, CA data, token file read on each request");
	RUN(kubeconfig_errors, "k8s: kubeconfig errors say what is missing");
	RUN(not_in_a_cluster_without_the_environment,
	    "k8s: not in a cluster without KUBERNETES_SERVICE_HOST; --k8s-api");
	UNIT_DONE();
}
