/* The parsers of what saferun's previews print (tools_remote.c), apart
 * from their planners so that the unit tests and the fuzz target call
 * them on recorded text. */
#ifndef SAFERUN_TOOLS_PARSE_H
#define SAFERUN_TOOLS_PARSE_H

#include <stddef.h>

#include <jansson.h>

#include "effects.h"
#include "err.h"

json_t *remote_blkid_export(const char *out);
json_t *remote_sql_statements(const char *sql, size_t len, const char *origin,
			      struct sd_err *err);
int remote_kubectl_names(const char *out, json_t *names, struct sd_err *err);
int remote_kubectl_diff(const char *diff, json_t *changes, struct sd_err *err);
json_t *remote_kubectl_objects(const char *json, struct sd_err *err);
json_t *remote_helm_manifest(const char *text, struct sd_err *err);
int remote_helm_revision(const char *json, json_int_t *revision,
			 struct sd_err *err);
json_t *remote_terraform_changes(const char *json, struct sd_err *err);
int remote_aws_dryrun(const char *out, const char *cwd, struct effects *e,
		      struct sd_err *err);
int remote_wipefs_erased(const char *out, json_t *lines, struct sd_err *err);
char *remote_error_line(const char *errout, const char *out);

#endif
