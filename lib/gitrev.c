/* Revision resolution with libgit2; see gitrev.h. */
#include <git2.h>

#include "gitrev.h"

int gitrev_resolve(const char *rev, char out[41], struct sd_err *err)
{
	git_repository *repo = NULL;
	git_object *obj = NULL, *commit = NULL;
	int rc = -1;

	git_libgit2_init();
	if (git_repository_open_ext(&repo, ".", 0, NULL) < 0) {
		err_set(err, SD_EXIT_CANNOT,
			"cannot resolve '%s': not in a git repository", rev);
		goto out;
	}
	if (git_revparse_single(&obj, repo, rev) < 0 ||
	    git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		const git_error *e = git_error_last();

		err_set(err, SD_EXIT_CANNOT, "cannot resolve '%s': %s", rev,
			e && e->message ? e->message : "no such revision");
		goto out;
	}
	git_oid_tostr(out, 41, git_object_id(commit));
	rc = 0;
out:
	git_object_free(commit);
	git_object_free(obj);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}
