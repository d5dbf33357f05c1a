/* saferun: what its files share (options, the invocation, the plan). */
#ifndef SAFERUN_H
#define SAFERUN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "err.h"
#include "tools.h"

/* Exit statuses of saferun's own (the wrapped command's pass through). */
enum {
	RUN_DENIED = 1,	  /* refused by a policy rule */
	RUN_CONFIRM = 3,  /* confirmation needed, or the token refused */
	RUN_FAILED = 125, /* saferun itself failed */
	RUN_NOT_FOUND = 127,
};

struct run_opts {
	bool dry_run, sandbox, commit, net, full, json, keep_sandbox;
	const char *confirm;  /* --confirm TOKEN */
	const char *config;   /* --config FILE */
	int64_t timeout_ms;   /* --timeout; 0: none */
	int64_t ttl;	      /* token lifetime, seconds */
	const char *key_file; /* token.key-file */
	const char *tty;      /* SAFERUN_TTY: the terminal to ask on (tests) */
};

struct saferun {
	struct run_opts o;
	struct config cfg;
	int argc; /* saferun's own command line, for the re-run line */
	char **argv;
	int cmd_argc; /* the wrapped command */
	char **cmd_argv;
	char cwd[4096];
	char exe[4096]; /* argv[0] resolved through PATH */
	char state_dir[4096];
	char run_dir[4200]; /* state_dir/saferun */
	char key[65];	    /* the invocation key: argv, cwd, uid, mode */
};

/* policy.c: saferun.rules and the built-in rules. */
enum policy_action { POLICY_NONE, POLICY_ALLOW, POLICY_CONFIRM, POLICY_DENY };

struct policy_verdict {
	enum policy_action action;
	bool builtin;	/* only a token passes it, whatever the rules say */
	char rule[512]; /* "rule 2 (.safedeploy.yml:7:5)", "built-in" */
	char message[1024];
};

/* Check saferun.rules for errors (each names the file, line and key). */
int policy_validate(const struct config *cfg, struct sd_err *err);
/* The first rule that matches argv, else POLICY_NONE. */
int policy_eval(const struct config *cfg, char *const *argv, int argc,
		const char *cwd, struct policy_verdict *v, struct sd_err *err);
/* Built-in rules over argv alone (a recursive operation on '/'). */
bool policy_builtin(char *const *argv, int argc, const char *cwd, char *why,
		    size_t n);
const char *policy_action_name(enum policy_action a);
/* The verdict for s's command: a built-in rule first (tool_why, a
 * planner's reason, or one found in argv), which only confirmation
 * passes; else the first configured rule. 0, or RUN_FAILED (said). */
struct saferun;
int policy_decide(const struct saferun *s, const char *tool_why,
		  struct policy_verdict *v);
/* When v denies, say so and return RUN_DENIED; else 0. */
int policy_deny(const struct policy_verdict *v);

/* sandboxrun.c: the copy-on-write path. */
int run_sandbox(struct saferun *s);
int run_commit(struct saferun *s);
void sandbox_prune(struct saferun *s);

/* main.c, for sandboxrun.c */
int exec_command(char **argv);
json_t *plan_base(struct saferun *s, const char *mode);
int finish_plan(struct saferun *s, json_t *plan, const char *summary,
		bool always_confirm, const struct policy_verdict *v,
		int *confirmed);
void print_summary(struct saferun *s, FILE *out, const json_t *plan,
		   const struct effects *e);
/* Write doc to path, replacing it whole but without an fsync: what saferun
 * keeps (a plan to explain a stale token, a sandbox waiting for --commit)
 * is no use after a crash anyway, and an fsync right after a sandbox run
 * would commit its thousands of new files first. */
int save_json(const char *path, const json_t *doc, struct sd_err *err);
const char *effects_bad_name(const struct effects *e);
int refuse_bad_name(const char *name);
char *relative_to(const struct saferun *s, char *msg);

#endif
