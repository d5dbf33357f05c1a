/* Fuzz target: what saferun's previews print, as their parsers read it
 * (cmd/saferun/tools_remote.c). First line: which parser ("sql",
 * "kubectl-names", "kubectl-diff", "kubectl-objects", "helm-manifest",
 * "helm-revision", "terraform", "aws", "wipefs", "blkid", "error-line");
 * the rest: the text. Each either fills its result or says why not. */
#include <stdlib.h>
#include <string.h>

#include "../../cmd/saferun/tools_parse.h"
#include "fuzz.h"

#define FUZZ_MAX_LEN 65536

static void must_fail_with_message(int rc, const struct sd_err *err)
{
	if (rc < 0 && !err->msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *nl, *body;
	struct sd_err err = {0};
	json_t *j = NULL, *list = json_array();

	if (!text || !list)
		abort();
	nl = strchr(text, '\n');
	body = nl ? nl + 1 : text + strlen(text);
	if (nl)
		*nl = 0;
	if (!strcmp(text, "sql")) {
		j = remote_sql_statements(body, strlen(body), "fuzz.sql", &err);
		must_fail_with_message(j ? 0 : -1, &err);
	} else if (!strcmp(text, "kubectl-names")) {
		must_fail_with_message(remote_kubectl_names(body, list, &err),
				       &err);
	} else if (!strcmp(text, "kubectl-diff")) {
		must_fail_with_message(remote_kubectl_diff(body, list, &err),
				       &err);
	} else if (!strcmp(text, "kubectl-objects")) {
		j = remote_kubectl_objects(body, &err);
		must_fail_with_message(j ? 0 : -1, &err);
	} else if (!strcmp(text, "helm-manifest")) {
		j = remote_helm_manifest(body, &err);
		must_fail_with_message(j ? 0 : -1, &err);
	} else if (!strcmp(text, "helm-revision")) {
		json_int_t rev = 0;

		must_fail_with_message(remote_helm_revision(body, &rev, &err),
				       &err);
	} else if (!strcmp(text, "terraform")) {
		j = remote_terraform_changes(body, &err);
		must_fail_with_message(j ? 0 : -1, &err);
	} else if (!strcmp(text, "aws")) {
		struct effects e = {0};

		must_fail_with_message(
			remote_aws_dryrun(body, "/work", &e, &err), &err);
		effects_release(&e);
	} else if (!strcmp(text, "wipefs")) {
		must_fail_with_message(remote_wipefs_erased(body, list, &err),
				       &err);
	} else if (!strcmp(text, "blkid")) {
		j = remote_blkid_export(body);
	} else {
		free(remote_error_line(body, text));
	}
	json_decref(j);
	json_decref(list);
	free(text);
	return 0;
}
