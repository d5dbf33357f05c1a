/* Unit tests for lib/pathglob.c: .gitignore-style path globs. */
#include "pathglob.h"
#include "unit.h"

static void files_match(void)
{
	CHECK(pathglob_match("*.go", "main.go"));
	CHECK(pathglob_match("*.go", "a/b/c.go"));
	CHECK(!pathglob_match("*.go", "a/b/c.gox"));
	CHECK(pathglob_match("pkg/features/*.go", "pkg/features/kube.go"));
	CHECK(!pathglob_match("pkg/features/*.go", "x/pkg/features/kube.go"));
	CHECK(!pathglob_match("pkg/features/*.go", "pkg/features/a/kube.go"));
	CHECK(pathglob_match("config/feature_flags/**/*.yml",
			     "config/feature_flags/wip/a.yml"));
	CHECK(pathglob_match("config/feature_flags/**/*.yml",
			     "config/feature_flags/a.yml"));
	CHECK(pathglob_match("**/features/*.go", "features/x.go"));
	CHECK(pathglob_match("**/features/*.go", "a/b/features/x.go"));
	CHECK(pathglob_match("/flags.txt", "flags.txt"));
	CHECK(!pathglob_match("/flags.txt", "a/flags.txt"));
	CHECK(pathglob_match("flags.txt", "a/flags.txt"));
	CHECK(pathglob_match("**", "a/b"));
	CHECK(pathglob_match("src/**", "src/a/b.c"));
	CHECK(!pathglob_match("src/**", "srcx/a"));
	CHECK(pathglob_match("a?c/[xy].c", "abc/y.c"));
	CHECK(pathglob_match("*.go", "d\xff\xfe/\xe9.go")); /* not UTF-8 */
}

static void directories_match(void)
{
	CHECK(pathglob_match("vendor/", "vendor/a.go"));
	CHECK(pathglob_match("vendor/", "x/vendor/k8s.io/a.go"));
	CHECK(!pathglob_match("vendor/", "vendorx/a.go"));
	CHECK(!pathglob_match("vendor/", "vendor"));
	CHECK(pathglob_match("/site/", "site/data/x.yaml"));
	CHECK(!pathglob_match("/site/", "a/site/x.yaml"));
	CHECK(pathglob_match_dir("vendor/", "a/vendor"));
	CHECK(pathglob_match_dir("node_modules", "web/node_modules"));
	CHECK(!pathglob_match_dir("vendor/", "a/vendorx"));
}

static void pruning_is_conservative(void)
{
	CHECK(pathglob_may_match_below("pkg/features/*.go", "pkg"));
	CHECK(pathglob_may_match_below("pkg/features/*.go", "pkg/features"));
	CHECK(!pathglob_may_match_below("pkg/features/*.go", "cmd"));
	CHECK(!pathglob_may_match_below("pkg/features/*.go",
					"pkg/features/sub"));
	CHECK(pathglob_may_match_below("*.go", "anything/at/all"));
	CHECK(pathglob_may_match_below("config/**/*.yml", "config/a/b"));
	CHECK(!pathglob_may_match_below("/flags.txt", "a"));
}

static void bad_globs_are_named(void)
{
	CHECK(pathglob_check("*.go") == NULL);
	CHECK(pathglob_check("a/**/b") == NULL);
	CHECK_STR(pathglob_check(""), "empty glob");
	CHECK_STR(pathglob_check("/"), "glob is only '/'");
	CHECK_STR(pathglob_check("a**"), "'**' must be a whole path component");
	CHECK_STR(pathglob_check("[ab"), "unclosed '['");
	CHECK_STR(pathglob_check("../x"),
		  "'..' cannot match a path in the repository");
}

int main(void)
{
	RUN(files_match, "pathglob: files match at any depth or anchored");
	RUN(directories_match,
	    "pathglob: a directory glob matches what is below");
	RUN(pruning_is_conservative,
	    "pathglob: tree pruning never skips a match");
	RUN(bad_globs_are_named, "pathglob: bad globs are named");
	UNIT_DONE();
}
