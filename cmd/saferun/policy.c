/* saferun's policy: the rules under saferun.rules, first match wins, and
 * the built-in rules that only a token passes.
 *
 *   saferun:
 *     rules:
 *       - command: remove-capacity        # argv[0]'s name, a glob
 *         max: {arg: --percentage, value: 10}
 *         action: deny
 *         message: take out at most 10% at a time
 *       - match: "kubectl delete * --all*" # the command line, a glob
 *         action: confirm
 *       - regex: '^terraform (plan|show)'  # the command line, PCRE2
 *         action: allow
 *
 * Every matcher a rule has must match; a rule with none is an error, as is
 * one without an action. The command line a glob or regex sees is argv
 * joined with single spaces, unquoted. */
#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "msg.h"
#include "saferun.h"

const char *policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_CONFIRM:
		return "confirm";
	case POLICY_DENY:
		return "deny";
	case POLICY_NONE:
		break;
	}
	return "none";
}

static int parse_action(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "allow"))
		return POLICY_ALLOW;
	if (!strcmp(s, "confirm"))
		return POLICY_CONFIRM;
	if (!strcmp(s, "deny"))
		return POLICY_DENY;
	return -1;
}

/* "FILE:LINE:COL: " of rule i's key, or "". */
static const char *where(const struct config *cfg, size_t i, const char *key,
			 char *buf, size_t n)
{
	char path[128];
	const char *at;

	snprintf(path, sizeof(path), "saferun.rules[%zu]%s%s", i,
		 key ? "." : "", key ? key : "");
	at = config_origin(cfg, path);
	if (!at && key) {
		snprintf(path, sizeof(path), "saferun.rules[%zu]", i);
		at = config_origin(cfg, path);
	}
	snprintf(buf, n, "%s%s", at ? at : "", at ? ": " : "");
	return buf;
}

static pcre2_code *compile(const char *pattern, char *msg, size_t n)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re =
		pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0,
			      &code, &off, NULL);

	if (!re) {
		PCRE2_UCHAR text[256];

		pcre2_get_error_message(code, text, sizeof(text));
		snprintf(msg, n, "%s at offset %zu", (char *)text, (size_t)off);
	}
	return re;
}

int policy_validate(const struct config *cfg, struct sd_err *err)
{
	json_t *rules = config_get(cfg, "saferun.rules"), *r;
	size_t i;
	char at[512];

	if (!rules)
		return 0;
	if (!json_is_array(rules))
		return err_set(err, RUN_FAILED,
			       "%s'saferun.rules': must be a list of rules",
			       config_origin(cfg, "saferun.rules")
				       ? config_origin(cfg, "saferun.rules")
				       : "");
	json_array_foreach(rules, i, r)
	{
		const char *action =
			json_string_value(json_object_get(r, "action"));
		json_t *max = json_object_get(r, "max");
		const char *re = json_string_value(json_object_get(r, "regex"));

		if (!json_is_object(r))
			return err_set(err, RUN_FAILED,
				       "%s'saferun.rules[%zu]': a rule is a "
				       "mapping",
				       where(cfg, i, NULL, at, sizeof(at)), i);
		if (parse_action(action) < 0)
			return err_set(err, RUN_FAILED,
				       "%s'saferun.rules[%zu].action': must be "
				       "allow, confirm or deny",
				       where(cfg, i, "action", at, sizeof(at)),
				       i);
		if (!json_object_get(r, "match") && !re &&
		    !json_object_get(r, "command") && !max)
			return err_set(err, RUN_FAILED,
				       "%s'saferun.rules[%zu]': a rule needs "
				       "match, regex, command or max",
				       where(cfg, i, NULL, at, sizeof(at)), i);
		for (const char *const *k =
			     (const char *const[]){"match", "regex", "command",
						   "message", NULL};
		     *k; k++) {
			json_t *v = json_object_get(r, *k);

			if (v && !json_is_string(v))
				return err_set(
					err, RUN_FAILED,
					"%s'saferun.rules[%zu].%s': "
					"must be a string",
					where(cfg, i, *k, at, sizeof(at)), i,
					*k);
		}
		if (re) {
			char msg[300];
			pcre2_code *c = compile(re, msg, sizeof(msg));

			if (!c)
				return err_set(
					err, RUN_FAILED,
					"%s'saferun.rules[%zu].regex': "
					"%s",
					where(cfg, i, "regex", at, sizeof(at)),
					i, msg);
			pcre2_code_free(c);
		}
		if (max && (!json_is_object(max) ||
			    !json_is_string(json_object_get(max, "arg")) ||
			    !json_is_number(json_object_get(max, "value"))))
			return err_set(err, RUN_FAILED,
				       "%s'saferun.rules[%zu].max': must be "
				       "{arg: OPTION, value: NUMBER}",
				       where(cfg, i, "max", at, sizeof(at)), i);
	}
	return 0;
}

static char *join(char *const *argv, int argc)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = 0;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* The value given to option name: "--percentage 100", "--percentage=100";
 * a trailing '%' is allowed. -1 when absent; *over when any exceeds max. */
static int arg_over(char *const *argv, int argc, const char *name, double max,
		    bool *over, double *got)
{
	size_t n = strlen(name);
	int found = -1;

	*over = false;
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		char *end;
		double d;

		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], name) && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], name, n) && argv[i][n] == '=')
			v = argv[i] + n + 1;
		if (!v)
			continue;
		found = 0;
		d = strtod(v, &end);
		if (end == v || (*end && strcmp(end, "%"))) {
			*over = true; /* not a number: cannot be under it */
			*got = 0;
			continue;
		}
		if (d > max) {
			*over = true;
			*got = d;
		}
	}
	return found;
}

int policy_eval(const struct config *cfg, char *const *argv, int argc,
		const char *cwd, struct policy_verdict *v, struct sd_err *err)
{
	json_t *rules = config_get(cfg, "saferun.rules"), *r;
	size_t i;
	char *line = join(argv, argc);
	const char *base =
		strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	(void)cwd;
	memset(v, 0, sizeof(*v));
	if (!line)
		return err_set(err, RUN_FAILED, "out of memory");
	json_array_foreach(rules, i, r)
	{
		const char *glob =
			json_string_value(json_object_get(r, "match"));
		const char *re = json_string_value(json_object_get(r, "regex"));
		const char *cmd =
			json_string_value(json_object_get(r, "command"));
		const char *msg =
			json_string_value(json_object_get(r, "message"));
		json_t *max = json_object_get(r, "max");
		char at[512] = "", extra[256] = "";
		bool ok = true;

		if (cmd && fnmatch(cmd, base, 0) != 0)
			ok = false;
		if (ok && glob && fnmatch(glob, line, 0) != 0)
			ok = false;
		if (ok && re) {
			char m[300];
			pcre2_code *c = compile(re, m, sizeof(m));
			pcre2_match_data *md =
				c ? pcre2_match_data_create_from_pattern(c,
									 NULL)
				  : NULL;

			ok = c && md &&
			     pcre2_match(c, (PCRE2_SPTR)line, strlen(line), 0,
					 0, md, NULL) >= 0;
			pcre2_match_data_free(md);
			pcre2_code_free(c);
		}
		if (ok && max) {
			bool over;
			double got = 0, lim = json_number_value(
						json_object_get(max, "value"));
			const char *name =
				json_string_value(json_object_get(max, "arg"));

			ok = arg_over(argv, argc, name, lim, &over, &got) ==
				     0 &&
			     over;
			if (ok)
				snprintf(extra, sizeof(extra),
					 "%s %g is over the limit of %g", name,
					 got, lim);
		}
		if (!ok)
			continue;
		v->action = (enum policy_action)parse_action(
			json_string_value(json_object_get(r, "action")));
		for (const char *const *k =
			     (const char *const[]){"command", "match", "regex",
						   "max", "action", NULL};
		     *k && !at[0]; k++)
			if (json_object_get(r, *k))
				where(cfg, i, *k, at, sizeof(at));
		snprintf(v->rule, sizeof(v->rule), "rule %zu%s%.*s%s", i + 1,
			 at[0] ? " (" : "", at[0] ? (int)strlen(at) - 2 : 0, at,
			 at[0] ? ")" : "");
		snprintf(v->message, sizeof(v->message), "%s%s%s",
			 msg ? msg : "", msg && extra[0] ? " (" : "", extra);
		if (msg && extra[0])
			strncat(v->message, ")",
				sizeof(v->message) - strlen(v->message) - 1);
		break;
	}
	free(line);
	return 0;
}

/* The options that make GNU tools recursive. */
static bool recursive_flag(const char *a)
{
	if (!strcmp(a, "--recursive"))
		return true;
	if (a[0] != '-' || a[1] == '-' || !a[1])
		return false;
	for (const char *p = a + 1; *p; p++)
		if (!isalpha((unsigned char)*p))
			return false;
	return strchr(a, 'r') || strchr(a, 'R');
}

bool policy_builtin(char *const *argv, int argc, const char *cwd, char *why,
		    size_t n)
{
	bool recursive = false, root = false, opts = true;
	const char *base =
		strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	(void)cwd;
	why[0] = 0;
	for (int i = 1; i < argc; i++) {
		char real[PATH_MAX];

		if (opts && !strcmp(argv[i], "--")) {
			opts = false;
			continue;
		}
		if (opts && argv[i][0] == '-') {
			/* find's words (-print, -prune) are not flags. */
			if (strcmp(base, "find"))
				recursive |= recursive_flag(argv[i]);
			continue;
		}
		if (argv[i][0] == '/' && realpath(argv[i], real) &&
		    !strcmp(real, "/"))
			root = true;
	}
	/* find / -delete is recursive by nature. */
	if (!strcmp(base, "find"))
		for (int i = 1; i < argc; i++)
			recursive |= !strcmp(argv[i], "-delete");
	if (recursive && root) {
		snprintf(why, n, "recursive operation on '/'");
		return true;
	}
	return false;
}

int policy_decide(const struct saferun *s, const char *tool_why,
		  struct policy_verdict *v)
{
	char why[1024] = "";
	struct sd_err err = {0};

	memset(v, 0, sizeof(*v));
	if (tool_why && tool_why[0])
		snprintf(why, sizeof(why), "%s", tool_why);
	else
		policy_builtin(s->cmd_argv, s->cmd_argc, s->cwd, why,
			       sizeof(why));
	if (why[0]) {
		v->builtin = true;
		v->action = POLICY_CONFIRM;
		snprintf(v->rule, sizeof(v->rule), "a built-in rule");
		snprintf(v->message, sizeof(v->message), "%s", why);
		return 0;
	}
	if (policy_eval(&s->cfg, s->cmd_argv, s->cmd_argc, s->cwd, v, &err) < 0)
		return msg_err(&err), RUN_FAILED;
	return 0;
}

int policy_deny(const struct policy_verdict *v)
{
	if (v->action != POLICY_DENY || v->builtin)
		return 0;
	msg_error("denied by %s%s%s", v->rule, v->message[0] ? ": " : "",
		  v->message);
	return RUN_DENIED;
}
