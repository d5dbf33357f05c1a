/* saferm: a drop-in rm that refuses the catastrophic and moves the rest to
 * the FreeDesktop.org trash. This file parses the command line the way GNU
 * rm does (same options, same messages, same exit status for rm's own
 * errors), loads the configuration and dispatches to the modes. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "color.h"
#include "confirm.h"
#include "msg.h"
#include "opts.h"
#include "paths.h"
#include "plan.h"
#include "saferm.h"
#include "shquote.h"
#include "token.h"
#include "units.h"
#include "version.h"

#define DEFAULT_MAX_FILES 10000
#define DEFAULT_MAX_BYTES (10ull << 30)
#define DEFAULT_TTL	  300

enum {
	O_INTERACTIVE = OPT_FIRST_OWN,
	O_ONE_FS,
	O_PRESERVE,
	O_NO_PRESERVE,
	O_PERMANENT,
	O_CONFIRM,
	O_UNDO,
	O_LIST,
	O_RESTORE,
	O_TO,
	O_PURGE,
	O_OLDER,
	O_PRESUME_TTY,
};

static const struct opt_spec specs[] = {
	{'f', "force", 'f', OPT_NONE, NULL,
	 "ignore nonexistent files and arguments, never prompt"},
	{O_INTERACTIVE, "interactive", 0, OPT_OPTIONAL, "WHEN",
	 "prompt: never, once (-I) or always (-i); default always"},
	{O_ONE_FS, "one-file-system", 0, OPT_NONE, NULL,
	 "when removing a hierarchy, skip directories on other filesystems"},
	{O_NO_PRESERVE, "no-preserve-root", 0, OPT_NONE, NULL,
	 "do not treat '/' specially (needs a confirmation token)"},
	{O_PRESERVE, "preserve-root", 0, OPT_OPTIONAL, "all",
	 "do not remove '/' (default); with 'all', reject mount points"},
	{'r', "recursive", 'r', OPT_NONE, NULL,
	 "remove directories and their contents recursively (also -R)"},
	{'d', "dir", 'd', OPT_NONE, NULL, "remove empty directories"},
	{'v', "verbose", 'v', OPT_NONE, NULL, "explain what is being done"},
	{O_PERMANENT, "permanent", 0, OPT_NONE, NULL,
	 "really delete instead of moving to the trash"},
	{'n', "dry-run", 'n', OPT_NONE, NULL,
	 "show what would happen and change nothing"},
	{O_CONFIRM, "confirm", 0, OPT_REQUIRED, "TOKEN",
	 "the token that confirms this exact operation"},
	{O_UNDO, "undo", 0, OPT_NONE, NULL,
	 "restore what the last saferm run trashed"},
	{O_LIST, "list", 0, OPT_NONE, NULL,
	 "list the trashed items of every trash of yours"},
	{O_RESTORE, "restore", 0, OPT_REQUIRED, "PATTERN|ID",
	 "put matching trashed items back where they were"},
	{O_TO, "to", 0, OPT_REQUIRED, "DIR",
	 "with --restore, restore into DIR instead"},
	{O_PURGE, "purge", 0, OPT_NONE, NULL,
	 "permanently delete trashed items (all, or --older-than)"},
	{O_OLDER, "older-than", 0, OPT_REQUIRED, "DURATION",
	 "with --purge, only items trashed longer ago (e.g. 30d)"},
	OPTS_JSON,
	OPTS_CONFIG,
	OPTS_COLOR,
	OPTS_HELP,
	{OPT_VERSION, "version", 0, OPT_NONE, NULL,
	 "print the version and exit"},
	{0},
};

static void usage(FILE *out)
{
	const char *p = msg_prog();

	fprintf(out,
		"Usage: %s [OPTION]... [FILE]...\n"
		"       %s --list | --undo | --restore PATTERN|ID [--to DIR]\n"
		"       %s --purge [--older-than DURATION] [--dry-run]\n"
		"\n"
		"Remove (unlink) the FILE(s) the way rm does, but move them to "
		"the trash,\nand refuse '/', its direct children, $HOME, mount "
		"points and protected\npaths.\n"
		"\nOptions:\n",
		p, p, p);
	for (const struct opt_spec *o = specs; o->id; o++) {
		struct opt_spec one[2] = {*o, {0}};

		if (o->id == O_INTERACTIVE)
			fprintf(out,
				"  -i                         prompt before "
				"every removal\n"
				"  -I                         prompt once before "
				"removing more than three\n"
				"                             files, or when "
				"removing recursively\n");
		if (o->id == 'r') {
			fprintf(out, "  -r, -R, --recursive        %s\n",
				"remove directories and their contents "
				"recursively");
			continue;
		}
		opts_print_help(out, one);
	}
	fprintf(out,
		"\n"
		"By default saferm moves each FILE to the FreeDesktop.org trash "
		"of its\nfilesystem (restore it with --undo, --restore, "
		"trash-restore or a file\nmanager). --permanent deletes; above "
		"saferm.max-files files or saferm.max-bytes\nbytes it needs a "
		"confirmation token, like removing a protected path.\n"
		"\n"
		"Exit status: 0 ok, 1 an operand could not be removed or was "
		"refused,\n2 usage error (saferm's own options), 3 confirmation "
		"required or token\nrefused (nothing was done), 4 could not "
		"read the configuration or the trash.\n");
}

const char *saferm_quote(const char *name, char *buf, size_t n)
{
	bool plain = true, has_single = false, has_double = false;
	size_t used = 0;

#define PUT(c)                                                                 \
	do {                                                                   \
		if (used + 1 < n)                                              \
			buf[used++] = (c);                                     \
	} while (0)
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p == '\'')
			has_single = true;
		else if (*p == '"' || *p == '$' || *p == '`' || *p == '\\')
			has_double = true;
		else if (*p < 0x20 || *p == 0x7f)
			plain = false;
	}
	if (!plain || (has_single && has_double)) {
		/* Like GNU quoting: 'a'$'\n''b' for control characters. */
		PUT('\'');
		for (const unsigned char *p = (const unsigned char *)name; *p;
		     p++) {
			if (*p < 0x20 || *p == 0x7f || *p == '\'') {
				char esc[16];

				if (*p == '\n')
					snprintf(esc, sizeof(esc), "'$'\\n''");
				else if (*p == '\t')
					snprintf(esc, sizeof(esc), "'$'\\t''");
				else if (*p == '\'')
					snprintf(esc, sizeof(esc), "'\\''");
				else
					snprintf(esc, sizeof(esc),
						 "'$'\\%03o''", *p);
				for (char *e = esc; *e; e++)
					PUT(*e);
			} else {
				PUT((char)*p);
			}
		}
		PUT('\'');
	} else {
		char q = has_single ? '"' : '\'';

		PUT(q);
		for (const char *p = name; *p; p++)
			PUT(*p);
		PUT(q);
	}
#undef PUT
	buf[used] = '\0';
	return buf;
}

bool saferm_yes(void)
{
	int c = getchar(), first = c;

	while (c != EOF && c != '\n')
		c = getchar();
	return first == 'y' || first == 'Y';
}

/* The command line without --dry-run (and its -n in a bundle), for the
 * re-run line a dry run prints. */
static int argv_without_dry_run(struct saferm *s, char ***out)
{
	char **v = calloc((size_t)s->argc + 1, sizeof(*v));
	int n = 0;
	bool ended = false;

	if (!v)
		return -1;
	for (int i = 0; i < s->argc; i++) {
		const char *a = s->argv[i];

		if (i == 0 || ended || a[0] != '-' || !a[1]) {
			v[n++] = strdup(a);
			continue;
		}
		if (!strcmp(a, "--")) {
			ended = true;
			v[n++] = strdup(a);
			continue;
		}
		if (!strcmp(a, "--dry-run"))
			continue;
		if (a[1] != '-') {
			char bundle[256];
			size_t k = 0;

			for (const char *p = a + 1;
			     *p && k + 2 < sizeof(bundle); p++) {
				if (*p == 'n')
					continue;
				if (!k)
					bundle[k++] = '-';
				bundle[k++] = *p;
			}
			bundle[k] = '\0';
			if (k)
				v[n++] = strdup(bundle);
			continue;
		}
		v[n++] = strdup(a);
		if ((!strcmp(a, "--confirm") || !strcmp(a, "--config") ||
		     !strcmp(a, "--to") || !strcmp(a, "--restore") ||
		     !strcmp(a, "--older-than")) &&
		    i + 1 < s->argc)
			v[n++] = strdup(s->argv[++i]);
	}
	*out = v;
	return n;
}

static int load_key(struct saferm *s, struct token_key *key, bool create,
		    char *path, size_t n)
{
	struct sd_err err = {0};

	if (token_key_path(s->o.key_file, path, n, &err) < 0 ||
	    token_key_load(key, path, create, &err) < 0)
		return msg_err(&err);
	return 0;
}

int saferm_print_rerun(struct saferm *s, json_t *doc, json_t *out)
{
	struct token_key key = {0};
	struct plan plan = {0};
	struct sd_err err = {0};
	char keypath[4096], tok[TOKEN_TEXT_LEN + 1], line[8192];
	char **v = NULL;
	int n, rc = 0;

	if (plan_from_json(&plan, doc, &err) < 0)
		return msg_err(&err);
	rc = load_key(s, &key, true, keypath, sizeof(keypath));
	if (!rc && token_issue(&key, plan.digest, token_now(), s->o.ttl, tok,
			       &err) < 0)
		rc = msg_err(&err);
	n = rc ? -1 : argv_without_dry_run(s, &v);
	if (!rc && n > 0 &&
	    confirm_rerun_line(line, sizeof(line), v, n, 1, tok) == 0) {
		char ttl[32];

		units_format_duration(s->o.ttl * 1000, ttl, sizeof(ttl));
		if (out) {
			json_object_set_new(out, "token", json_string(tok));
			json_object_set_new(out, "rerun", json_string(line));
		} else {
			printf("to go ahead, run within %s:\n  %s\n", ttl,
			       line);
		}
	} else if (!rc) {
		msg_error("command line too long for a re-run line");
		rc = SD_EXIT_CANNOT;
	}
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
	token_key_release(&key);
	plan_release(&plan);
	return rc;
}

int saferm_confirm(struct saferm *s, json_t *doc, const char *what,
		   bool refuse_without_tty)
{
	struct confirm_request req = {0};
	struct confirm_result res;
	struct token_key key = {0};
	struct plan plan = {0};
	struct sd_err err = {0};
	char keypath[4096], head[4096];
	int rc;

	if (plan_from_json(&plan, doc, &err) < 0)
		return msg_err(&err);
	rc = load_key(s, &key, true, keypath, sizeof(keypath));
	if (rc) {
		plan_release(&plan);
		return rc;
	}
	snprintf(head, sizeof(head), "%s\n%splan sha256:%.12s%s", what,
		 color_code(2, COLOR_DIM), plan.hex,
		 color_code(2, COLOR_RESET));
	req.plan = &plan;
	req.summary = head;
	req.argv = s->argv;
	req.argc = s->argc;
	req.insert_at = 1;
	req.token = s->o.confirm;
	req.ttl = s->o.ttl;
	req.key = &key;
	req.state_dir = s->state_dir;
	req.tty = s->o.tty;
	rc = confirm_plan(&req, &res, &err);
	if (rc == 0) {
		rc = SD_EXIT_OK;
	} else if (res.rerun[0] && refuse_without_tty) {
		rc = -1; /* the caller refuses and says how to go ahead */
	} else {
		msg_err(&err);
		if (res.rerun[0]) {
			fprintf(stderr, "%s\n", what);
			fprintf(stderr, "to go ahead, run:\n  %s\n", res.rerun);
		}
		rc = SD_EXIT_CONFIRM;
	}
	token_key_release(&key);
	plan_release(&plan);
	return rc;
}

/* GNU rm's wording for its usage errors, and its exit status 1. */
static int rm_usage(const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s%s\nTry '%s --help' for more information.\n",
		msg_prog(), what, arg ? arg : "", msg_prog());
	return SD_EXIT_FAIL;
}

/* `rm -foo` where ./-foo exists: GNU's hint. */
static void dash_hint(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		char q[4200], cmd[4300] = "";

		if (!strcmp(argv[i], "--"))
			break;
		if (argv[i][0] != '-' || !argv[i][1] || lstat(argv[i], &st) < 0)
			continue;
		snprintf(cmd, sizeof(cmd), "./%s", argv[i]);
		{
			char quoted[4400] = "";

			shquote_append(quoted, sizeof(quoted), cmd);
			fprintf(stderr, "Try '%s %s' to remove the file %s.\n",
				msg_prog(), quoted,
				saferm_quote(argv[i], q, sizeof(q)));
		}
		break;
	}
}

static bool is_short_option(int c)
{
	if (c <= 0 || c > 255)
		return false;
	if (strchr("iIR", c))
		return true;
	for (const struct opt_spec *o = specs; o->id; o++)
		if (o->short_name == c)
			return true;
	return false;
}

/* getopt's errors in GNU's words. optopt tells them apart: 0 for an unknown
 * long option, a character that is no short option for an unknown short
 * one, and otherwise the option that was given a value it does not take. */
static int bad_option(int argc, char **argv, int c)
{
	const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "";

	if (c == '?' && !optopt) {
		fprintf(stderr, "%s: unrecognized option '%s'\n", msg_prog(),
			bad);
	} else if (c == '?' && optopt <= 255 && !is_short_option(optopt)) {
		fprintf(stderr, "%s: invalid option -- '%c'\n", msg_prog(),
			optopt);
	} else if (c == '?') {
		char name[256];

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(bad, "="),
			 bad);
		fprintf(stderr, "%s: option '%s' doesn't allow an argument\n",
			msg_prog(), name);
	} else if (optopt > 255 || !strncmp(bad, "--", 2)) {
		fprintf(stderr, "%s: option '%s' requires an argument\n",
			msg_prog(), bad);
	} else {
		fprintf(stderr, "%s: option requires an argument -- '%c'\n",
			msg_prog(), optopt);
	}
	dash_hint(argc, argv);
	fprintf(stderr, "Try '%s --help' for more information.\n", msg_prog());
	return SD_EXIT_FAIL;
}

static int parse_interactive(struct options *o, const char *arg)
{
	static const char *const never[] = {"never", "no", "none"};
	static const char *const always[] = {"always", "yes"};

	if (!arg) {
		o->interactive = RMI_ALWAYS;
		o->force = false;
		o->prompt_once = false;
		return 0;
	}
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(arg, never[i])) {
			o->interactive = RMI_NEVER;
			o->prompt_once = false;
			return 0;
		}
	if (!strcmp(arg, "once")) {
		o->interactive = RMI_SOMETIMES;
		o->force = false;
		o->prompt_once = true;
		return 0;
	}
	for (size_t i = 0; i < 2; i++)
		if (!strcmp(arg, always[i])) {
			o->interactive = RMI_ALWAYS;
			o->force = false;
			o->prompt_once = false;
			return 0;
		}
	fprintf(stderr,
		"%s: invalid argument '%s' for '--interactive'\n"
		"Valid arguments are:\n"
		"  - 'never', 'no', 'none'\n"
		"  - 'once'\n"
		"  - 'always', 'yes'\n",
		msg_prog(), arg);
	fprintf(stderr, "Try '%s --help' for more information.\n", msg_prog());
	return -1;
}

static int parse_options(struct saferm *s, int argc, char **argv, int *first)
{
	struct options *o = &s->o;
	struct opt_parser p;
	const struct option *lo;
	int c, idx, n_modes = 0;

	if (opts_init(&p, argc, argv, specs, msg_prog(), false) < 0)
		return SD_EXIT_CANNOT;
	/* -i, -I and -R have no long form of their own; "---presume-input-tty"
	 * is GNU's hidden option for tests. */
	{
		size_t len = strlen(p.shortopts);

		if (len + 4 < sizeof(p.shortopts))
			memcpy(p.shortopts + len, "iIR", 4);
	}
	{
		size_t nlong = 0;
		struct option *grown;

		while (p.longopts[nlong].name)
			nlong++;
		grown = realloc(p.longopts, (nlong + 2) * sizeof(*grown));
		if (!grown) {
			opts_release(&p);
			return SD_EXIT_CANNOT;
		}
		p.longopts = grown;
		p.longopts[nlong] = (struct option){
			"-presume-input-tty", no_argument, NULL, O_PRESUME_TTY};
		p.longopts[nlong + 1] = (struct option){0};
	}
	lo = p.longopts;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, p.shortopts, lo, &idx)) != -1) {
		const char *arg = optarg;

		switch (c) {
		case 'f':
			o->force = true;
			o->interactive = RMI_NEVER;
			o->prompt_once = false;
			break;
		case 'i':
			o->interactive = RMI_ALWAYS;
			o->force = false;
			o->prompt_once = false;
			break;
		case 'I':
			o->interactive = RMI_SOMETIMES;
			o->force = false;
			o->prompt_once = true;
			break;
		case O_INTERACTIVE:
			if (parse_interactive(o, arg) < 0) {
				opts_release(&p);
				return SD_EXIT_FAIL;
			}
			break;
		case 'r':
		case 'R':
			o->recursive = true;
			break;
		case 'd':
			o->dir = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case O_ONE_FS:
			o->one_fs = true;
			break;
		case O_NO_PRESERVE:
			/* A typo must not switch the failsafe off. */
			if (strcmp(argv[optind - 1], "--no-preserve-root")) {
				fprintf(stderr,
					"%s: you may not abbreviate the "
					"--no-preserve-root option\n",
					msg_prog());
				opts_release(&p);
				return SD_EXIT_FAIL;
			}
			o->preserve_root = false;
			break;
		case O_PRESERVE:
			if (arg && strcmp(arg, "all")) {
				char q[4200];

				opts_release(&p);
				return rm_usage(
					"unrecognized --preserve-root argument: ",
					saferm_quote(arg, q, sizeof(q)));
			}
			o->preserve_root = true;
			o->preserve_all = arg != NULL;
			break;
		case O_PERMANENT:
			o->permanent = true;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case O_CONFIRM:
			o->confirm = arg;
			break;
		case O_UNDO:
			o->mode = MODE_UNDO;
			n_modes++;
			break;
		case O_LIST:
			o->mode = MODE_LIST;
			n_modes++;
			break;
		case O_RESTORE:
			o->mode = MODE_RESTORE;
			o->restore = arg;
			n_modes++;
			break;
		case O_TO:
			o->to = arg;
			break;
		case O_PURGE:
			o->mode = MODE_PURGE;
			n_modes++;
			break;
		case O_OLDER:
			o->older = arg;
			break;
		case O_PRESUME_TTY:
			o->presume_tty = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_CONFIG:
			o->config = arg;
			break;
		case OPT_COLOR: {
			enum color_mode m;

			if (color_parse(arg ? arg : "always", &m) < 0) {
				opts_release(&p);
				return msg_usage(msg_prog(),
						 "--color: '%s' is not auto, "
						 "always or never",
						 arg);
			}
			color_set_mode(m);
			break;
		}
		case OPT_HELP:
			usage(stdout);
			opts_release(&p);
			return -1;
		case OPT_VERSION:
			printf("saferm (safedeploy) %s\n", SD_VERSION);
			opts_release(&p);
			return -1;
		default:
			opts_release(&p);
			return bad_option(argc, argv, c);
		}
	}
	opts_release(&p);
	*first = optind;
	if (n_modes > 1)
		return msg_usage(msg_prog(), "--list, --undo, --restore and "
					     "--purge cannot be combined");
	if (o->to && o->mode != MODE_RESTORE)
		return msg_usage(msg_prog(), "--to works only with --restore");
	if (o->older && o->mode != MODE_PURGE)
		return msg_usage(msg_prog(),
				 "--older-than works only with --purge");
	if (o->json && o->mode == MODE_REMOVE && !o->dry_run)
		return msg_usage(msg_prog(), "--json works with --dry-run, "
					     "--list and --purge --dry-run");
	if (o->mode != MODE_REMOVE && *first < argc)
		return msg_usage(msg_prog(),
				 "unexpected operand '%s' with --%s",
				 argv[*first],
				 o->mode == MODE_UNDO	   ? "undo"
				 : o->mode == MODE_LIST	   ? "list"
				 : o->mode == MODE_RESTORE ? "restore"
							   : "purge");
	if (o->older) {
		struct sd_err err = {0};

		if (units_parse_duration(o->older, &o->older_ms, &err) < 0)
			return msg_usage(msg_prog(), "--older-than: %s",
					 err.msg);
	}
	return 0;
}

static void print_config_warnings(const struct config *cfg)
{
	size_t i;
	json_t *w;

	json_array_foreach(cfg->warnings, i, w)
		msg_warn("%s", json_string_value(w));
}

static int load_config(struct saferm *s)
{
	struct sd_err err = {0};
	uint64_t v;
	int64_t ms;
	json_t *j;
	int r;

	config_init(&s->cfg);
	if (config_load(&s->cfg, s->o.config, &err) < 0)
		return msg_err(&err);
	print_config_warnings(&s->cfg);
	s->o.max_files = DEFAULT_MAX_FILES;
	s->o.max_bytes = DEFAULT_MAX_BYTES;
	s->o.ttl = DEFAULT_TTL;
	j = config_get(&s->cfg, "saferm.max-files");
	if (j) {
		if (!json_is_integer(j) || json_integer_value(j) < 0) {
			const char *at =
				config_origin(&s->cfg, "saferm.max-files");

			msg_error("%s%s'saferm.max-files': must be a "
				  "non-negative integer",
				  at ? at : "", at ? ": " : "");
			return SD_EXIT_CANNOT;
		}
		s->o.max_files = (uint64_t)json_integer_value(j);
	}
	r = config_get_size(&s->cfg, "saferm.max-bytes", &v, &err);
	if (r < 0)
		return msg_err(&err);
	if (r > 0)
		s->o.max_bytes = v;
	r = config_get_duration(&s->cfg, "token.ttl", &ms, &err);
	if (r < 0)
		return msg_err(&err);
	if (r > 0 && ms >= 1000)
		s->o.ttl = ms / 1000;
	if (config_get_string(&s->cfg, "token.key-file", &s->o.key_file, &err) <
	    0)
		return msg_err(&err);
	return 0;
}

int main(int argc, char **argv)
{
	struct saferm s;
	struct sd_err err = {0};
	int first = 0, rc;

	memset(&s, 0, sizeof(s));
	s.journal_fd = -1;
	msg_init(argv[0]);
	s.argc = argc;
	s.argv = argv;
	s.o.interactive = RMI_SOMETIMES;
	s.o.preserve_root = true;
	s.o.tty = getenv("SAFERM_TTY");
	rc = parse_options(&s, argc, argv, &first);
	if (rc)
		return rc < 0 ? SD_EXIT_OK : rc;
	if (s.o.mode == MODE_REMOVE && first >= argc) {
		if (s.o.force)
			return SD_EXIT_OK;
		return rm_usage("missing operand", NULL);
	}
	rc = load_config(&s);
	if (!rc && paths_state_dir(s.state_dir, sizeof(s.state_dir), &err) < 0)
		rc = msg_err(&err);
	if (!rc) {
		switch (s.o.mode) {
		case MODE_REMOVE:
			rc = run_remove(&s, argc - first, argv + first);
			break;
		case MODE_UNDO:
			rc = run_undo(&s);
			break;
		case MODE_LIST:
			rc = run_list(&s);
			break;
		case MODE_RESTORE:
			rc = run_restore(&s);
			break;
		case MODE_PURGE:
			rc = run_purge(&s);
			break;
		}
	}
	journal_close(&s);
	if (s.trash_ready)
		trash_set_release(&s.trash);
	protect_release(&s.prot);
	config_release(&s.cfg);
	if (fflush(stdout) != 0 && !rc)
		rc = SD_EXIT_CANNOT;
	return rc;
}
