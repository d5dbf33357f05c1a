/* Unit tests for the small core modules: lib/err.c, lib/fsutil.c,
 * lib/msg.c, lib/opts.c and lib/paths.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"
#include "msg.h"
#include "opts.h"
#include "paths.h"
#include "unit.h"

static char tmp[256];

static void err_fills_and_prefixes(void)
{
	struct sd_err err = {0};

	CHECK_INT(err_set(&err, SD_EXIT_CANNOT, "cannot open '%s'", "x"), -1);
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_STR(err.msg, "cannot open 'x'");
	CHECK_INT(err_prefix(&err, "plan '%s'", "p.json"), -1);
	CHECK_STR(err.msg, "plan 'p.json': cannot open 'x'");
	errno = ENOENT;
	CHECK_INT(err_errno(&err, SD_EXIT_FAIL, "cannot read '%s'", "y"), -1);
	CHECK_STR(err.msg, "cannot read 'y': No such file or directory");
	CHECK_INT(errno, ENOENT); /* kept for the caller */
	CHECK_INT(err_set(NULL, 1, "ignored"), -1);
	/* A long prefix is cut, never overflowing. */
	{
		char big[2000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		err_set(&err, 1, "tail");
		err_prefix(&err, "%s", big);
		CHECK_INT(strlen(err.msg), sizeof(err.msg) - 1);
	}
}

static void files_are_read_bounded_and_written_atomically(void)
{
	struct sd_err err = {0};
	char path[512], *data = NULL;
	size_t len = 0;
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b/c", tmp);
	CHECK_INT(fs_mkdirs(path, 0700, &err), 0);
	CHECK_INT(fs_mkdirs(path, 0700, &err), 0); /* already there */
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/a/b/c/f", tmp);
	CHECK_INT(fs_write_atomic(path, "hello\n", 6, 0640, &err), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0640);
	CHECK_INT(fs_read_file(path, 100, &data, &len, &err), 0);
	CHECK_STR(data, "hello\n");
	CHECK_INT(len, 6);
	free(data);
	/* Replacing leaves no temporary file behind. */
	CHECK_INT(fs_write_atomic(path, "bye\n", 4, 0600, &err), 0);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "test $(ls '%s/a/b/c' | wc -l) = 1",
			 tmp);
		CHECK_INT(system(cmd), 0);
	}
	/* Over the cap is an error naming the file; nothing is returned. */
	data = NULL;
	CHECK_INT(fs_read_file(path, 3, &data, &len, &err), -1);
	CHECK_CONTAINS(err.msg, "is too large (more than 3 bytes)");
	CHECK(data == NULL);
	CHECK_INT(fs_read_file(tmp, 100, &data, &len, &err), -1);
	CHECK_CONTAINS(err.msg, "is a directory");
	snprintf(path, sizeof(path), "%s/absent", tmp);
	CHECK_INT(fs_read_file(path, 100, &data, &len, &err), -1);
	CHECK_CONTAINS(err.msg, "No such file or directory");
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	/* A file in the way of a directory. */
	snprintf(path, sizeof(path), "%s/a/b/c/f/g", tmp);
	CHECK_INT(fs_mkdirs(path, 0700, &err), -1);
	CHECK_CONTAINS(err.msg, "Not a directory");
	/* Without the fsyncs: the same whole replacement, nothing left. */
	snprintf(path, sizeof(path), "%s/a/b/c/f", tmp);
	CHECK_INT(fs_write_nosync(path, "quick\n", 6, 0604, &err), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0604);
	CHECK_INT(fs_read_file(path, 100, &data, &len, &err), 0);
	CHECK_STR(data, "quick\n");
	free(data);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "test $(ls '%s/a/b/c' | wc -l) = 1",
			 tmp);
		CHECK_INT(system(cmd), 0);
	}
	snprintf(path, sizeof(path), "%s/a/none/f", tmp);
	CHECK_INT(fs_write_nosync(path, "x", 1, 0600, &err), -1);
	CHECK_CONTAINS(err.msg, "cannot write '");
	CHECK_CONTAINS(err.msg, "/a/none/f': No such file or directory");
}

static void messages_have_the_prog_prefix(void)
{
	char path[512], *data = NULL;
	struct sd_err err = {0};
	int fd, saved;

	snprintf(path, sizeof(path), "%s/stderr", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	msg_init("/usr/local/bin/saferm");
	msg_error("cannot remove '%s'", "x");
	msg_warn("unknown key '%s'", "tokn");
	err_set(&err, SD_EXIT_CONFIRM, "token is for a different plan");
	CHECK_INT(msg_err(&err), SD_EXIT_CONFIRM);
	CHECK_INT(msg_usage("saferm", "missing operand"), SD_EXIT_USAGE);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	CHECK_STR(msg_prog(), "saferm");
	CHECK_INT(fs_read_file(path, 4096, &data, NULL, &err), 0);
	CHECK_STR(data, "saferm: cannot remove 'x'\n"
			"saferm: warning: unknown key 'tokn'\n"
			"saferm: token is for a different plan\n"
			"saferm: missing operand\n"
			"Try 'saferm --help' for more information.\n");
	free(data);
	msg_init("safedeploy");
}

static void options_parse_and_document_themselves(void)
{
	static const struct opt_spec specs[] = {
		{'f', "force", 'f', OPT_NONE, NULL, "never prompt"},
		{OPT_FIRST_OWN, "plan", 'p', OPT_REQUIRED, "FILE", "the plan"},
		OPTS_COLOR,
		{0},
	};
	char *argv[] = {"cmd",	   "-fp",	    "a.json", "operand",
			"--color", "--plan=b.json", "--",     "--not-an-option",
			NULL};
	struct opt_parser p;
	const char *arg;
	char path[512], *data = NULL;
	struct sd_err err = {0};
	FILE *out;

	CHECK_INT(opts_init(&p, 8, argv, specs, "cmd", false), 0);
	CHECK_INT(opts_next(&p, &arg), 'f');
	CHECK_INT(opts_next(&p, &arg), OPT_FIRST_OWN);
	CHECK_STR(arg, "a.json");
	CHECK_INT(opts_next(&p, &arg), OPT_COLOR);
	CHECK(arg == NULL);
	CHECK_INT(opts_next(&p, &arg), OPT_FIRST_OWN);
	CHECK_STR(arg, "b.json");
	CHECK_INT(opts_next(&p, &arg), -1);
	/* Operands were moved after the options, "--" kept them apart. */
	CHECK_STR(argv[opts_index(&p)], "operand");
	CHECK_STR(argv[opts_index(&p) + 1], "--not-an-option");
	opts_release(&p);

	snprintf(path, sizeof(path), "%s/help", tmp);
	out = fopen(path, "w");
	opts_print_help(out, specs);
	fclose(out);
	CHECK_INT(fs_read_file(path, 4096, &data, NULL, &err), 0);
	CHECK_STR(data,
		  "  -f, --force              never prompt\n"
		  "  -p, --plan FILE          the plan\n"
		  "      --color[=WHEN]       colour: auto, always or never "
		  "(default auto)\n");
	free(data);
}

static void options_stop_at_the_first_operand_for_dispatchers(void)
{
	static const struct opt_spec specs[] = {OPTS_CONFIG, {0}};
	char *argv[] = {"safedeploy", "--config", "c.yml", "token",
			"--config",   "d.yml",	  NULL};
	struct opt_parser p;
	const char *arg;

	CHECK_INT(opts_init(&p, 6, argv, specs, "safedeploy", true), 0);
	CHECK_INT(opts_next(&p, &arg), OPT_CONFIG);
	CHECK_STR(arg, "c.yml");
	CHECK_INT(opts_next(&p, &arg), -1);
	CHECK_STR(argv[opts_index(&p)], "token");
	opts_release(&p);
}

static void paths_follow_xdg_and_find_the_repository(void)
{
	struct sd_err err = {0};
	char buf[PATH_MAX], dir[600], cwd[PATH_MAX];

	setenv("XDG_STATE_HOME", "/x/state", 1);
	CHECK_INT(paths_state_dir(buf, sizeof(buf), &err), 0);
	CHECK_STR(buf, "/x/state/safedeploy");
	/* A relative XDG value is ignored, as the spec says. */
	setenv("XDG_STATE_HOME", "relative", 1);
	setenv("HOME", "/home/u", 1);
	CHECK_INT(paths_state_dir(buf, sizeof(buf), &err), 0);
	CHECK_STR(buf, "/home/u/.local/state/safedeploy");
	unsetenv("XDG_CONFIG_HOME");
	CHECK_INT(paths_user_config(buf, sizeof(buf), &err), 0);
	CHECK_STR(buf, "/home/u/.config/safedeploy/config.yml");
	setenv("SAFEDEPLOY_SYSCONFDIR", "/opt/etc", 1);
	CHECK_STR(paths_sysconfdir(), "/opt/etc");
	unsetenv("SAFEDEPLOY_SYSCONFDIR");
	CHECK_STR(paths_sysconfdir(), "/etc/safedeploy");

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(dir, sizeof(dir), "%s/repo/.git", tmp);
	CHECK_INT(fs_mkdirs(dir, 0700, &err), 0);
	snprintf(dir, sizeof(dir), "%s/repo/deep/er", tmp);
	CHECK_INT(fs_mkdirs(dir, 0700, &err), 0);
	CHECK_INT(chdir(dir), 0);
	CHECK_INT(paths_repo_root(buf, sizeof(buf)), 0);
	snprintf(dir, sizeof(dir), "%s/repo", tmp);
	CHECK_STR(buf, dir);
	CHECK_INT(chdir(cwd), 0);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "%s", unit_mkdtemp("core"));
	RUN(err_fills_and_prefixes, "err: set, errno and prefix, bounded");
	RUN(files_are_read_bounded_and_written_atomically,
	    "fsutil: bounded reads, atomic writes, mkdir -p");
	RUN(messages_have_the_prog_prefix,
	    "msg: prog: message, warning:, and the try line");
	RUN(options_parse_and_document_themselves,
	    "opts: bundles, =values, operands, --, and the help text");
	RUN(options_stop_at_the_first_operand_for_dispatchers,
	    "opts: a dispatcher stops at the command name");
	RUN(paths_follow_xdg_and_find_the_repository,
	    "paths: XDG state and config, system dir, repository root");
	UNIT_DONE();
}
