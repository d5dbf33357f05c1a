/* safedeploy token: issue, check, redeem and confirm with confirmation
 * tokens bound to a plan's digest (DESIGN.md §1). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "color.h"
#include "confirm.h"
#include "msg.h"
#include "opts.h"
#include "paths.h"
#include "plan.h"
#include "token.h"
#include "units.h"

enum {
	OPT_PLAN = OPT_FIRST_OWN,
	OPT_TTL,
	OPT_SUMMARY,
	OPT_CONFIRM,
};

#define OPT_PLAN_SPEC                                                          \
	{                                                                      \
		OPT_PLAN, "plan", 'p', OPT_REQUIRED, "FILE",                   \
			"the plan (JSON; - for standard input)"                \
	}
#define OPT_TTL_SPEC                                                           \
	{                                                                      \
		OPT_TTL, "ttl", 0, OPT_REQUIRED, "DURATION",                   \
			"how long the token stays valid (default 5m)"          \
	}

static const struct opt_spec issue_opts[] = {
	OPT_PLAN_SPEC, OPT_TTL_SPEC, OPTS_JSON, OPTS_CONFIG,
	OPTS_COLOR,    OPTS_HELP,    {0},
};

static const struct opt_spec check_opts[] = {
	OPT_PLAN_SPEC, OPTS_JSON, OPTS_CONFIG, OPTS_COLOR, OPTS_HELP, {0},
};

static const struct opt_spec confirm_opts[] = {
	OPT_PLAN_SPEC,
	{OPT_SUMMARY, "summary", 0, OPT_REQUIRED, "TEXT",
	 "what the plan does, shown before asking"},
	{OPT_CONFIRM, "confirm", 0, OPT_REQUIRED, "TOKEN",
	 "go ahead with this token instead of asking"},
	OPT_TTL_SPEC,
	OPTS_JSON,
	OPTS_CONFIG,
	OPTS_COLOR,
	OPTS_HELP,
	{0},
};

enum action { ISSUE, CHECK, REDEEM, CONFIRM };

static const struct subcommand {
	const char *name;
	enum action action;
	const struct opt_spec *opts;
	const char *synopsis;
	const char *description;
} subcommands[] = {
	{"issue", ISSUE, issue_opts, "--plan FILE [--ttl DURATION] [--json]",
	 "Print a token bound to the plan's digest, valid for --ttl."},
	{"check", CHECK, check_opts, "--plan FILE [--json] TOKEN",
	 "Exit 0 if TOKEN is valid for the plan and unused; otherwise exit 3\n"
	 "and say why."},
	{"redeem", REDEEM, check_opts, "--plan FILE [--json] TOKEN",
	 "Check TOKEN, then record it as used: it is refused from then on.\n"
	 "Of two processes redeeming one token, exactly one succeeds."},
	{"confirm", CONFIRM, confirm_opts,
	 "--plan FILE [--summary TEXT] [--confirm TOKEN] [--ttl DURATION]",
	 "Ask for confirmation of the plan: with --confirm, redeem the token;\n"
	 "on a terminal, ask the user to type a short code back; with no\n"
	 "terminal, exit 3 and print the command to re-run with a token."},
	{NULL},
};

static const char *const verdict_names[] = {
	[TOKEN_VALID] = "valid",	 [TOKEN_MALFORMED] = "malformed",
	[TOKEN_OTHER_KEY] = "other-key", [TOKEN_OTHER_PLAN] = "other-plan",
	[TOKEN_ALTERED] = "altered",	 [TOKEN_FUTURE] = "future",
	[TOKEN_EXPIRED] = "expired",	 [TOKEN_USED] = "used",
};

static void token_usage(FILE *out)
{
	for (const struct subcommand *s = subcommands; s->name; s++)
		fprintf(out, "%s safedeploy token %s %s\n",
			s == subcommands ? "Usage:" : "      ", s->name,
			s->synopsis);
	fprintf(out,
		"\n"
		"Confirmation tokens bound to a plan: the SHA-256 of the plan's "
		"canonical JSON.\n"
		"A token is refused for another plan, after it expires, once it "
		"was redeemed,\n"
		"when altered, or when signed with another key.\n"
		"\n"
		"Run 'safedeploy token COMMAND --help' for the options of each.\n"
		"\n"
		"Exit status: 0 valid, 2 usage error, 3 token refused or "
		"confirmation required,\n"
		"4 could not check (unreadable or invalid plan, key, ledger or "
		"configuration).\n");
}

static void sub_usage(const struct subcommand *s)
{
	printf("Usage: safedeploy token %s %s\n\n%s\n\nOptions:\n", s->name,
	       s->synopsis, s->description);
	opts_print_help(stdout, s->opts);
}

struct token_run {
	const struct subcommand *sub;
	char cmdname[64];
	const char *plan_path, *summary, *confirm, *ttl_text, *token;
	bool json;
	int64_t ttl;
	struct cmd_ctx *ctx;
	struct config cfg;
	struct plan plan;
	struct token_key key;
	char key_path[4096], state_dir[4096];
};

static int parse_args(struct token_run *r, int argc, char **argv,
		      struct cmd_ctx *ctx)
{
	struct opt_parser p;
	const char *arg;
	int opt, rest;

	if (opts_init(&p, argc, argv, r->sub->opts, r->cmdname, false) < 0)
		return SD_EXIT_CANNOT;
	while ((opt = opts_next(&p, &arg)) != -1) {
		switch (opt) {
		case OPT_HELP:
			opts_release(&p);
			sub_usage(r->sub);
			return -1;
		case OPT_PLAN:
			r->plan_path = arg;
			break;
		case OPT_TTL:
			r->ttl_text = arg;
			break;
		case OPT_SUMMARY:
			r->summary = arg;
			break;
		case OPT_CONFIRM:
			r->confirm = arg;
			break;
		case OPT_JSON:
			r->json = true;
			break;
		default:
			if (cmd_common_option(ctx, r->cmdname, opt, arg)) {
				opts_release(&p);
				return SD_EXIT_USAGE;
			}
		}
	}
	rest = opts_index(&p);
	opts_release(&p);
	if (!r->plan_path)
		return msg_usage(r->cmdname, "missing --plan FILE");
	if (r->sub->action == CHECK || r->sub->action == REDEEM) {
		if (rest >= argc)
			return msg_usage(r->cmdname, "missing TOKEN");
		if (rest + 1 < argc)
			return msg_usage(r->cmdname, "unexpected argument '%s'",
					 argv[rest + 1]);
		r->token = argv[rest];
	} else if (rest < argc) {
		return msg_usage(r->cmdname, "unexpected argument '%s'",
				 argv[rest]);
	}
	return 0;
}

/* The lifetime from --ttl, else token.ttl in config, else 5 minutes. */
static int resolve_ttl(struct token_run *r, struct sd_err *err)
{
	int64_t ms = TOKEN_DEFAULT_TTL * 1000LL;
	const char *where = "--ttl";

	if (r->ttl_text) {
		if (units_parse_duration(r->ttl_text, &ms, err) < 0)
			return err_prefix(err, "--ttl");
	} else if (config_get_duration(&r->cfg, "token.ttl", &ms, err) < 0) {
		return -1;
	} else {
		where = "token.ttl";
	}
	if (ms < 1000 || ms / 1000 > TOKEN_MAX_TTL)
		return err_set(
			err, r->ttl_text ? SD_EXIT_USAGE : SD_EXIT_CANNOT,
			"%s: a token lifetime must be between 1s and 194d",
			where);
	r->ttl = ms / 1000;
	return 0;
}

static int load_key(struct token_run *r, bool create, struct sd_err *err)
{
	const char *configured = NULL;

	if (config_get_string(&r->cfg, "token.key-file", &configured, err) <
		    0 ||
	    token_key_path(configured, r->key_path, sizeof(r->key_path), err) <
		    0)
		return -1;
	return token_key_load(&r->key, r->key_path, create, err);
}

static void json_set_time(json_t *doc, const char *key, int64_t t)
{
	char buf[40];

	json_object_set_new(doc, key,
			    json_string(cmd_format_utc(t, buf, sizeof(buf))));
}

static json_t *json_doc(const struct token_run *r)
{
	json_t *doc = json_object();
	char digest[80];

	json_object_set_new(doc, "version", json_integer(1));
	snprintf(digest, sizeof(digest), "sha256:%s", r->plan.hex);
	json_object_set_new(doc, "plan_digest", json_string(digest));
	return doc;
}

static int do_issue(struct token_run *r)
{
	struct sd_err err = {0};
	char tok[TOKEN_TEXT_LEN + 1];
	int64_t now = token_now();
	json_t *doc;

	if (token_issue(&r->key, r->plan.digest, now, r->ttl, tok, &err) < 0)
		return msg_err(&err);
	if (!r->json) {
		printf("%s\n", tok);
		return fflush(stdout) ? SD_EXIT_CANNOT : SD_EXIT_OK;
	}
	doc = json_doc(r);
	json_object_set_new(doc, "token", json_string(tok));
	json_set_time(doc, "issued_at", now);
	json_set_time(doc, "expires_at", now + r->ttl);
	json_object_set_new(doc, "key_file", json_string(r->key_path));
	cmd_print_json(doc);
	json_decref(doc);
	return SD_EXIT_OK;
}

static int do_check(struct token_run *r, bool redeem)
{
	struct sd_err err = {0};
	struct token_info info = {0};
	char left[32];
	int64_t now = token_now();
	int rc;

	if (paths_state_dir(r->state_dir, sizeof(r->state_dir), &err) < 0)
		return msg_err(&err);
	rc = token_check(&r->key, r->plan.digest, r->token, r->state_dir,
			 redeem, now, &info, &err);
	if (r->json) {
		json_t *doc = json_doc(r);

		json_object_set_new(doc, "valid", json_boolean(rc == 0));
		json_object_set_new(
			doc, "verdict",
			json_string(rc == 0 || err.code == SD_EXIT_CONFIRM
					    ? verdict_names[info.verdict]
					    : "error"));
		json_object_set_new(doc, "message",
				    rc == 0 ? json_null()
					    : json_string(err.msg));
		if (info.verdict != TOKEN_MALFORMED && info.issued) {
			json_set_time(doc, "issued_at", info.issued);
			json_set_time(doc, "expires_at", info.expires);
		}
		if (info.verdict == TOKEN_USED || (redeem && rc == 0))
			json_set_time(doc, "used_at", info.used_at);
		if (redeem)
			json_object_set_new(doc, "redeemed",
					    json_boolean(rc == 0));
		cmd_print_json(doc);
		json_decref(doc);
	}
	if (rc < 0)
		return msg_err(&err);
	if (!r->json) {
		units_format_duration((info.expires - now) * 1000, left,
				      sizeof(left));
		if (redeem)
			printf("token redeemed: it cannot be used again\n");
		else
			printf("token is valid for %s more\n", left);
	}
	return SD_EXIT_OK;
}

static int do_confirm(struct token_run *r)
{
	struct confirm_request req = {0};
	struct confirm_result res;
	struct sd_err err = {0};
	json_t *s = json_object_get(r->plan.doc, "summary");
	char head[512], ttl[32];
	int rc;

	if (paths_state_dir(r->state_dir, sizeof(r->state_dir), &err) < 0)
		return msg_err(&err);
	if (!r->summary && json_is_string(s))
		r->summary = json_string_value(s);
	snprintf(head, sizeof(head), "%s%s%splan sha256:%.12s",
		 r->summary ? r->summary : "", r->summary ? "\n" : "",
		 color_code(2, COLOR_DIM), r->plan.hex);
	req.plan = &r->plan;
	req.summary = head;
	req.argv = r->ctx->argv;
	req.argc = r->ctx->argc;
	req.insert_at = r->ctx->argc;
	req.token = r->confirm;
	req.ttl = r->ttl;
	req.key = &r->key;
	req.state_dir = r->state_dir;
	rc = confirm_plan(&req, &res, &err);
	if (r->json) {
		json_t *doc = json_doc(r);

		json_object_set_new(doc, "confirmed", json_boolean(rc == 0));
		json_object_set_new(doc, "by",
				    json_string(r->confirm	  ? "token"
						: res.interactive ? "terminal"
								  : "none"));
		json_object_set_new(doc, "message",
				    rc == 0 ? json_null()
					    : json_string(err.msg));
		if (res.rerun[0]) {
			json_object_set_new(doc, "token",
					    json_string(res.token));
			json_object_set_new(doc, "rerun",
					    json_string(res.rerun));
		}
		cmd_print_json(doc);
		json_decref(doc);
	}
	if (rc == 0)
		return SD_EXIT_OK;
	msg_err(&err);
	if (res.rerun[0]) {
		if (r->summary)
			msg_error("the plan: %s", r->summary);
		msg_error(
			"to go ahead within %s, run: %s",
			units_format_duration(r->ttl * 1000, ttl, sizeof(ttl)),
			res.rerun);
	}
	return err.code;
}

int cmd_token(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct token_run r = {0};
	struct token_info info = {0};
	struct sd_err err = {0};
	int rc;

	if (argc < 2)
		return msg_usage("safedeploy token",
				 "missing command (issue, check, redeem or "
				 "confirm)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		token_usage(stdout);
		return SD_EXIT_OK;
	}
	for (r.sub = subcommands; r.sub->name; r.sub++)
		if (!strcmp(r.sub->name, argv[1]))
			break;
	if (!r.sub->name)
		return msg_usage("safedeploy token",
				 "unknown token command '%s' (use issue, "
				 "check, redeem or confirm)",
				 argv[1]);
	snprintf(r.cmdname, sizeof(r.cmdname), "safedeploy token %s",
		 r.sub->name);
	r.ctx = ctx;
	rc = parse_args(&r, argc - 1, argv + 1, ctx);
	if (rc)
		return rc < 0 ? SD_EXIT_OK : rc;
	rc = cmd_load_config(ctx, &r.cfg);
	if (rc)
		goto out;
	if (r.sub->action == CHECK || r.sub->action == REDEEM) {
		/* A mistyped token is named as such before anything else. */
		if (token_parse(r.token, &info, &err) < 0)
			goto fail;
	} else if (resolve_ttl(&r, &err) < 0) {
		goto fail;
	}
	if (plan_load(&r.plan, r.plan_path, &err) < 0 ||
	    load_key(&r, r.sub->action == ISSUE || r.sub->action == CONFIRM,
		     &err) < 0)
		goto fail;
	switch (r.sub->action) {
	case ISSUE:
		rc = do_issue(&r);
		break;
	case CHECK:
		rc = do_check(&r, false);
		break;
	case REDEEM:
		rc = do_check(&r, true);
		break;
	case CONFIRM:
		rc = do_confirm(&r);
		break;
	}
	goto out;
fail:
	if (r.json) {
		/* Still one JSON document, saying what went wrong. */
		json_t *doc = json_object();

		json_object_set_new(doc, "version", json_integer(1));
		if (r.sub->action == CHECK || r.sub->action == REDEEM) {
			json_object_set_new(doc, "valid", json_false());
			json_object_set_new(
				doc, "verdict",
				json_string(info.verdict == TOKEN_MALFORMED
						    ? "malformed"
					    : err.code == SD_EXIT_CONFIRM
						    ? "other-key"
						    : "error"));
		}
		json_object_set_new(doc, "message", json_string(err.msg));
		cmd_print_json(doc);
		json_decref(doc);
	}
	rc = msg_err(&err);
out:
	token_key_release(&r.key);
	plan_release(&r.plan);
	config_release(&r.cfg);
	return rc;
}
