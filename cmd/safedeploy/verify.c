/* safedeploy verify: ask every target what it runs and fail on any skew
 * (DESIGN.md §2). Parses options and config, discovers targets, fetches
 * through lib/http.c, judges through lib/verify.c, and prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "color.h"
#include "fsutil.h"
#include "gitrev.h"
#include "http.h"
#include "k8s.h"
#include "markup.h"
#include "msg.h"
#include "opts.h"
#include "podlist.h"
#include "progress.h"
#include "units.h"
#include "verify.h"

#define CMD "safedeploy verify"

enum {
	OPT_URL = OPT_FIRST_OWN,
	OPT_TARGETS,
	OPT_KUBECTL_JSON,
	OPT_K8S,
	OPT_NAMESPACE,
	OPT_SELECTOR,
	OPT_K8S_API,
	OPT_KUBECONFIG,
	OPT_CONTEXT,
	OPT_VIA_API_PROXY,
	OPT_CHUNK_SIZE,
	OPT_PORT,
	OPT_PATH,
	OPT_FIELD,
	OPT_EXPECT,
	OPT_EXPECT_COMMIT,
	OPT_SAME,
	OPT_SAME_PREFIX,
	OPT_EXACTLY_ONE,
	OPT_MIN_TARGETS,
	OPT_ALLOW_UNREACHABLE,
	OPT_CONCURRENCY,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_DEADLINE,
	OPT_MAX_BODY,
	OPT_FOLLOW,
	OPT_CACERT,
	OPT_INSECURE,
	OPT_HEADER,
	OPT_JUNIT,
	OPT_WAIT,
	OPT_INTERVAL,
	OPT_ON_FAIL,
};

static const struct opt_spec verify_opts[] = {
	{OPT_URL, "url", 'u', OPT_REQUIRED, "URL", "a target (repeatable)"},
	{OPT_TARGETS, "targets", 0, OPT_REQUIRED, "FILE",
	 "targets, one URL per line (- for standard input)"},
	{OPT_KUBECTL_JSON, "kubectl-json", 0, OPT_REQUIRED, "FILE",
	 "pods from 'kubectl get pods -o json' (- for standard input)"},
	{OPT_K8S, "k8s", 0, OPT_NONE, NULL,
	 "list the pods through the Kubernetes API"},
	{OPT_NAMESPACE, "namespace", 'n', OPT_REQUIRED, "NS",
	 "with --k8s: the namespace (default: the context's)"},
	{OPT_SELECTOR, "selector", 'l', OPT_REQUIRED, "SEL",
	 "with --k8s: a label selector, e.g. app=web"},
	{OPT_K8S_API, "k8s-api", 0, OPT_REQUIRED, "URL",
	 "with --k8s: the API at URL, e.g. kubectl proxy's"},
	{OPT_KUBECONFIG, "kubeconfig", 0, OPT_REQUIRED, "FILE",
	 "with --k8s: this kubeconfig (default $KUBECONFIG, ~/.kube/config)"},
	{OPT_CONTEXT, "context", 0, OPT_REQUIRED, "NAME",
	 "with --k8s: this kubeconfig context"},
	{OPT_VIA_API_PROXY, "via-api-proxy", 0, OPT_NONE, NULL,
	 "with --k8s: reach each pod through the API server's pod proxy"},
	{OPT_CHUNK_SIZE, "chunk-size", 0, OPT_REQUIRED, "N",
	 "with --k8s: pods per page of the list (default 500)"},
	{OPT_PORT, "port", 0, OPT_REQUIRED, "PORT",
	 "the pods' port (default: their declared container port)"},
	{OPT_PATH, "path", 0, OPT_REQUIRED, "PATH",
	 "the path asked on each pod (default /actuator/info)"},
	{OPT_FIELD, "field", 'f', OPT_REQUIRED, "NAME=PATH",
	 "a field to read: a JSON path, or prom:METRIC.LABEL"},
	{OPT_EXPECT, "expect", 'e', OPT_REQUIRED, "NAME=VALUE",
	 "every target must report this value"},
	{OPT_EXPECT_COMMIT, "expect-commit", 0, OPT_REQUIRED, "REV",
	 "every target must run this git revision (e.g. HEAD)"},
	{OPT_SAME, "same", 0, OPT_REQUIRED, "NAME",
	 "every target reports the same value (default: every field)"},
	{OPT_SAME_PREFIX, "same-prefix", 0, OPT_REQUIRED, "PATH",
	 "every key under this object is equal on all targets"},
	{OPT_EXACTLY_ONE, "exactly-one", 0, OPT_REQUIRED, "NAME=VALUE",
	 "exactly one target reports this value (e.g. role=primary)"},
	{OPT_MIN_TARGETS, "min-targets", 0, OPT_REQUIRED, "N",
	 "at least N targets must agree"},
	{OPT_ALLOW_UNREACHABLE, "allow-unreachable", 0, OPT_REQUIRED, "N",
	 "tolerate N targets that do not answer"},
	{OPT_CONCURRENCY, "concurrency", 0, OPT_REQUIRED, "N",
	 "requests in flight at once (default 64)"},
	{OPT_TIMEOUT, "timeout", 0, OPT_REQUIRED, "DURATION",
	 "per request (default 5s)"},
	{OPT_CONNECT_TIMEOUT, "connect-timeout", 0, OPT_REQUIRED, "DURATION",
	 "per connection (default 2s)"},
	{OPT_DEADLINE, "deadline", 0, OPT_REQUIRED, "DURATION",
	 "for the whole run (default 60s)"},
	{OPT_MAX_BODY, "max-body", 0, OPT_REQUIRED, "SIZE",
	 "larger answers are invalid (default 1M)"},
	{OPT_FOLLOW, "follow", 0, OPT_NONE, NULL, "follow redirects"},
	{OPT_CACERT, "cacert", 0, OPT_REQUIRED, "FILE",
	 "CA certificates to verify TLS with"},
	{OPT_INSECURE, "insecure", 'k', OPT_NONE, NULL,
	 "do not verify TLS certificates"},
	{OPT_HEADER, "header", 'H', OPT_REQUIRED, "LINE",
	 "a request header, e.g. 'Authorization: Bearer …' (repeatable)"},
	{OPT_WAIT, "wait", 0, OPT_REQUIRED, "DURATION",
	 "ask again until every rule holds, for at most DURATION"},
	{OPT_INTERVAL, "interval", 0, OPT_REQUIRED, "DURATION",
	 "between rounds with --wait (default 2s)"},
	{OPT_ON_FAIL, "on-fail", 0, OPT_REQUIRED, "CMD",
	 "after a failure, run CMD with the verdicts in SAFEDEPLOY_VERIFY_JSON"},
	{OPT_JUNIT, "junit", 0, OPT_REQUIRED, "FILE",
	 "write JUnit XML, one test case per target"},
	OPTS_JSON,
	OPTS_CONFIG,
	OPTS_COLOR,
	OPTS_HELP,
	{0},
};

struct verify_run {
	struct verify v;
	struct http_options http;
	struct config cfg;
	const char **urls; /* from --url, in order */
	size_t nurls;
	const char *targets_file, *kubectl_file, *path, *junit, *expect_commit;
	const char *on_fail;
	long wait_ms, interval_ms;
	bool k8s, via_proxy;
	long chunk;
	const char *namespace, *selector, *k8s_api, *kubeconfig, *context;
	struct k8s api;
	char auth[8192];
	long port;
	bool json;
	int64_t deadline;
	const char **headers;
	size_t nheaders;
};

static void usage(void)
{
	printf("Usage: " CMD " [OPTIONS] --url URL...\n"
	       "       " CMD " [OPTIONS] --targets FILE\n"
	       "       " CMD " [OPTIONS] --kubectl-json FILE [--port PORT] "
	       "[--path PATH]\n"
	       "\n"
	       "Ask every target, concurrently, what it runs, and fail on any "
	       "skew.\n"
	       "Fields default to version=build.version and "
	       "commit=git.commit.id, and every\n"
	       "field must be the same on all targets unless other rules are "
	       "given.\n"
	       "\n"
	       "Options:\n");
	opts_print_help(stdout, verify_opts);
	printf("\nExit status: 0 every rule holds, 1 a rule fails or a target "
	       "is invalid,\n"
	       "2 usage error, 4 some targets did not answer (beyond "
	       "--allow-unreachable)\n"
	       "or the configuration is invalid.\n");
}

static int push(const char ***list, size_t *n, const char *item)
{
	const char **bigger = realloc(*list, (*n + 1) * sizeof(**list));

	if (!bigger)
		return -1;
	*list = bigger;
	(*list)[(*n)++] = item;
	return 0;
}

static int parse_long(const char *flag, const char *s, long min, long max,
		      long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < min || v > max)
		return msg_usage(CMD,
				 "%s '%s': expected a number from %ld to %ld",
				 flag, s, min, max);
	*out = v;
	return 0;
}

static int parse_ms(const char *flag, const char *s, long *out)
{
	struct sd_err err = {0};
	int64_t ms;

	if (units_parse_duration(s, &ms, &err) < 0)
		return msg_usage(CMD, "%s: %s", flag, err.msg);
	if (ms < 1 || ms > 86400000)
		return msg_usage(CMD, "%s '%s': must be between 1ms and 1d",
				 flag, s);
	*out = (long)ms;
	return 0;
}

/* One "KEY=VALUE" entry of a verify: mapping, as if given as a flag. */
static int config_pair(struct verify_run *r, const char *section,
		       const char *key, json_t *val, bool field,
		       enum rule_kind kind)
{
	struct sd_err err = {0};
	char spec[2048], path[600];
	const char *where;
	int rc;

	snprintf(path, sizeof(path), "verify.%s.%s", section, key);
	where = config_origin(&r->cfg, path);
	if (!json_is_string(val)) {
		msg_error("%s: '%s': expected a string",
			  where ? where : "config", path);
		return SD_EXIT_CANNOT;
	}
	snprintf(spec, sizeof(spec), "%s=%s", key, json_string_value(val));
	rc = field ? verify_add_field(&r->v, spec, &err)
		   : verify_add_rule(&r->v, kind, spec, &err);
	if (rc < 0) {
		msg_error("%s: '%s': %s", where ? where : "config", path,
			  err.msg);
		return SD_EXIT_CANNOT;
	}
	return 0;
}

/* Defaults from the verify: section, before the flags override them. The
 * loader has checked every type against the table of known keys. */
static int apply_config(struct verify_run *r)
{
	const struct config *cfg = &r->cfg;
	struct sd_err err = {0};
	const char *key, *s;
	json_t *val;
	int64_t ms;
	uint64_t size;
	size_t i;
	bool b;
	int rc;

	if (config_get_duration(cfg, "verify.timeout", &ms, &err) > 0)
		r->http.timeout_ms = (long)ms;
	if (config_get_duration(cfg, "verify.connect-timeout", &ms, &err) > 0)
		r->http.connect_timeout_ms = (long)ms;
	if (config_get_duration(cfg, "verify.deadline", &ms, &err) > 0)
		r->deadline = ms;
	if (config_get_size(cfg, "verify.max-body", &size, &err) > 0)
		r->http.max_body = (size_t)size;
	if (config_get_bool(cfg, "verify.follow", &b, &err) > 0)
		r->http.follow = b;
	if (config_get_bool(cfg, "verify.insecure", &b, &err) > 0)
		r->http.insecure = b;
	if (config_get_string(cfg, "verify.cacert", &s, &err) > 0)
		r->http.cacert = s;
	if (config_get_string(cfg, "verify.path", &s, &err) > 0)
		r->path = s;
	if (config_get_string(cfg, "verify.on-fail", &s, &err) > 0)
		r->on_fail = s;
	if (config_get_duration(cfg, "verify.wait", &ms, &err) > 0)
		r->wait_ms = (long)ms;
	if (config_get_duration(cfg, "verify.interval", &ms, &err) > 0)
		r->interval_ms = (long)ms;
	if ((val = config_get(cfg, "verify.port")))
		r->port = (long)json_integer_value(val);
	if ((val = config_get(cfg, "verify.concurrency")))
		r->http.concurrency = (int)json_integer_value(val);
	if ((val = config_get(cfg, "verify.allow-unreachable")))
		r->v.allow_unreachable = (long)json_integer_value(val);
	if ((val = config_get(cfg, "verify.min-targets"))) {
		char n[32];

		snprintf(n, sizeof(n), "%lld",
			 (long long)json_integer_value(val));
		if (verify_add_rule(&r->v, R_MIN, n, &err) < 0)
			return msg_err(&err), SD_EXIT_CANNOT;
	}
	json_object_foreach(
		config_get(cfg, "verify.fields"), key,
		val) if ((rc = config_pair(r, "fields", key, val, true,
					   R_EXPECT))) return rc;
	json_object_foreach(
		config_get(cfg, "verify.expect"), key,
		val) if ((rc = config_pair(r, "expect", key, val, false,
					   R_EXPECT))) return rc;
	json_object_foreach(
		config_get(cfg, "verify.exactly-one"), key,
		val) if ((rc = config_pair(r, "exactly-one", key, val, false,
					   R_EXACTLY_ONE))) return rc;
	json_array_foreach(
		config_get(cfg, "verify.same"), i,
		val) if (verify_add_rule(&r->v, R_SAME, json_string_value(val),
					 &err) < 0) return msg_err(&err),
		SD_EXIT_CANNOT;
	json_array_foreach(config_get(cfg, "verify.same-prefix"), i,
			   val) if (verify_add_rule(&r->v, R_SAME_PREFIX,
						    json_string_value(val),
						    &err) <
				    0) return msg_err(&err),
		SD_EXIT_CANNOT;
	json_array_foreach(config_get(cfg, "verify.headers"), i,
			   val) if (push(&r->headers, &r->nheaders,
					 json_string_value(val)) <
				    0) return msg_error("out of memory"),
		SD_EXIT_CANNOT;
	return 0;
}

/* What the flags said, applied over the configuration. */
struct flags {
	const char **fields;
	size_t nfields;
	struct {
		enum rule_kind kind;
		const char *arg;
	} rules[256];
	size_t nrules;
	long timeout_ms, connect_timeout_ms, concurrency, port,
		allow_unreachable, wait_ms, interval_ms;
	const char *on_fail;
	int64_t deadline;
	size_t max_body;
	const char *path, *cacert;
	bool follow, insecure;
};

static int add_flag_rule(struct flags *f, enum rule_kind kind, const char *arg)
{
	if (f->nrules == sizeof(f->rules) / sizeof(*f->rules))
		return msg_usage(CMD, "too many rules (at most %zu)",
				 sizeof(f->rules) / sizeof(*f->rules));
	f->rules[f->nrules].kind = kind;
	f->rules[f->nrules++].arg = arg;
	return 0;
}

static int parse_args(struct verify_run *r, struct flags *f, int argc,
		      char **argv, struct cmd_ctx *ctx)
{
	struct opt_parser p;
	const char *arg;
	int opt, rc = 0;

	if (opts_init(&p, argc, argv, verify_opts, CMD, false) < 0)
		return SD_EXIT_CANNOT;
	while (!rc && (opt = opts_next(&p, &arg)) != -1) {
		switch (opt) {
		case OPT_HELP:
			usage();
			rc = -1;
			break;
		case OPT_URL:
			rc = push(&r->urls, &r->nurls, arg) ? SD_EXIT_CANNOT
							    : 0;
			break;
		case OPT_TARGETS:
			r->targets_file = arg;
			break;
		case OPT_KUBECTL_JSON:
			r->kubectl_file = arg;
			break;
		case OPT_K8S:
			r->k8s = true;
			break;
		case OPT_NAMESPACE:
			r->namespace = arg;
			break;
		case OPT_SELECTOR:
			r->selector = arg;
			break;
		case OPT_K8S_API:
			r->k8s_api = arg;
			break;
		case OPT_KUBECONFIG:
			r->kubeconfig = arg;
			break;
		case OPT_CONTEXT:
			r->context = arg;
			break;
		case OPT_VIA_API_PROXY:
			r->via_proxy = true;
			break;
		case OPT_CHUNK_SIZE:
			rc = parse_long("--chunk-size", arg, 1, 100000,
					&r->chunk);
			break;
		case OPT_PORT:
			rc = parse_long("--port", arg, 1, 65535, &f->port);
			break;
		case OPT_PATH:
			f->path = arg;
			break;
		case OPT_FIELD:
			rc = push(&f->fields, &f->nfields, arg) ? SD_EXIT_CANNOT
								: 0;
			break;
		case OPT_EXPECT:
			rc = add_flag_rule(f, R_EXPECT, arg);
			break;
		case OPT_EXPECT_COMMIT:
			r->expect_commit = arg;
			break;
		case OPT_SAME:
			rc = add_flag_rule(f, R_SAME, arg);
			break;
		case OPT_SAME_PREFIX:
			rc = add_flag_rule(f, R_SAME_PREFIX, arg);
			break;
		case OPT_EXACTLY_ONE:
			rc = add_flag_rule(f, R_EXACTLY_ONE, arg);
			break;
		case OPT_MIN_TARGETS:
			rc = add_flag_rule(f, R_MIN, arg);
			break;
		case OPT_ALLOW_UNREACHABLE:
			rc = parse_long("--allow-unreachable", arg, 0, 1000000,
					&f->allow_unreachable);
			break;
		case OPT_CONCURRENCY:
			rc = parse_long("--concurrency", arg, 1, 4096,
					&f->concurrency);
			break;
		case OPT_TIMEOUT:
			rc = parse_ms("--timeout", arg, &f->timeout_ms);
			break;
		case OPT_CONNECT_TIMEOUT:
			rc = parse_ms("--connect-timeout", arg,
				      &f->connect_timeout_ms);
			break;
		case OPT_DEADLINE: {
			long ms;

			rc = parse_ms("--deadline", arg, &ms);
			f->deadline = ms;
			break;
		}
		case OPT_MAX_BODY: {
			struct sd_err err = {0};
			uint64_t size;

			if (units_parse_size(arg, &size, &err) < 0)
				rc = msg_usage(CMD, "--max-body: %s", err.msg);
			else if (size < 1 || size > (1ULL << 30))
				rc = msg_usage(CMD,
					       "--max-body '%s': must be "
					       "between 1 and 1G",
					       arg);
			f->max_body = (size_t)size;
			break;
		}
		case OPT_FOLLOW:
			f->follow = true;
			break;
		case OPT_CACERT:
			f->cacert = arg;
			break;
		case OPT_INSECURE:
			f->insecure = true;
			break;
		case OPT_HEADER:
			if (!strchr(arg, ':'))
				rc = msg_usage(CMD,
					       "--header '%s': expected "
					       "'Name: value'",
					       arg);
			else if (push(&r->headers, &r->nheaders, arg))
				rc = SD_EXIT_CANNOT;
			break;
		case OPT_JUNIT:
			r->junit = arg;
			break;
		case OPT_WAIT:
			rc = parse_ms("--wait", arg, &f->wait_ms);
			break;
		case OPT_INTERVAL:
			rc = parse_ms("--interval", arg, &f->interval_ms);
			break;
		case OPT_ON_FAIL:
			f->on_fail = arg;
			break;
		case OPT_JSON:
			r->json = true;
			break;
		default:
			rc = cmd_common_option(ctx, CMD, opt, arg)
				     ? SD_EXIT_USAGE
				     : 0;
		}
	}
	if (!rc && opts_index(&p) < argc)
		rc = msg_usage(CMD,
			       "unexpected argument '%s' (targets are "
			       "given with --url)",
			       argv[opts_index(&p)]);
	opts_release(&p);
	return rc;
}

/* The flags win over the configuration. */
static int apply_flags(struct verify_run *r, const struct flags *f)
{
	struct sd_err err = {0};
	char commit[41], spec[64];

	if (f->timeout_ms)
		r->http.timeout_ms = f->timeout_ms;
	if (f->connect_timeout_ms)
		r->http.connect_timeout_ms = f->connect_timeout_ms;
	if (f->concurrency)
		r->http.concurrency = (int)f->concurrency;
	if (f->deadline)
		r->deadline = f->deadline;
	if (f->max_body)
		r->http.max_body = f->max_body;
	if (f->follow)
		r->http.follow = true;
	if (f->insecure)
		r->http.insecure = true;
	if (f->cacert)
		r->http.cacert = f->cacert;
	if (f->port)
		r->port = f->port;
	if (f->path)
		r->path = f->path;
	if (f->allow_unreachable)
		r->v.allow_unreachable = f->allow_unreachable;
	if (f->wait_ms)
		r->wait_ms = f->wait_ms;
	if (f->interval_ms)
		r->interval_ms = f->interval_ms;
	if (f->on_fail)
		r->on_fail = f->on_fail;
	for (size_t i = 0; i < f->nfields; i++)
		if (verify_add_field(&r->v, f->fields[i], &err) < 0)
			return msg_usage(CMD, "%s", err.msg);
	for (size_t i = 0; i < f->nrules; i++)
		if (verify_add_rule(&r->v, f->rules[i].kind, f->rules[i].arg,
				    &err) < 0)
			return msg_usage(CMD, "%s", err.msg);
	if (r->expect_commit) {
		if (gitrev_resolve(r->expect_commit, commit, &err) < 0)
			return msg_err(&err);
		snprintf(spec, sizeof(spec), "commit=%s", commit);
		if (verify_add_rule(&r->v, R_EXPECT, spec, &err) < 0)
			return msg_usage(CMD, "%s", err.msg);
	}
	if (verify_check(&r->v, &err) < 0)
		return msg_usage(CMD, "%s", err.msg);
	r->http.headers = r->headers;
	r->http.nheaders = r->nheaders;
	return 0;
}

/* "127.0.0.2:8080" out of "http://127.0.0.2:8080/actuator/info". */
static char *authority(const char *url)
{
	const char *start = strstr(url, "://");
	size_t n;

	start = start ? start + 3 : url;
	n = strcspn(start, "/?#");
	return strndup(start, n);
}

static int add_url(struct verify_run *r, const char *url, const char *where)
{
	struct sd_err err = {0};
	char *name;
	int rc;

	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return msg_usage(CMD,
				 "%s'%s' is not an http:// or https:// URL",
				 where, url);
	name = authority(url);
	rc = verify_add_target(&r->v, name, url, NULL, &err);
	free(name);
	if (rc < 0)
		return msg_err(&err);
	if (rc > 0)
		msg_warn("target '%s' is listed more than once; asked once",
			 url);
	return 0;
}

static int load_targets_file(struct verify_run *r)
{
	const char *name = strcmp(r->targets_file, "-") ? r->targets_file
							: "standard input";
	struct sd_err err = {0};
	char *text, *line, *next, where[512];
	int lineno = 0, rc = 0;

	if (fs_read_file(r->targets_file, 16 << 20, &text, NULL, &err) < 0)
		return msg_err(&err);
	for (line = text; line && *line && !rc; line = next) {
		char *end;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line += strspn(line, " \t");
		end = line + strcspn(line, "#");
		while (end > line && strchr(" \t\r", end[-1]))
			end--;
		*end = '\0';
		if (!*line)
			continue;
		snprintf(where, sizeof(where), "%s:%d: ", name, lineno);
		rc = add_url(r, line, where);
	}
	free(text);
	return rc;
}

/* The pods of a List or PodList (from source; where names it when it is
 * empty) as targets: at their IP, or through the API server's pod proxy
 * when api is given. */
static int add_pods(struct verify_run *r, json_t *doc, const char *source,
		    const char *where, const struct k8s *api)
{
	struct sd_err err = {0};
	struct pod *pods;
	size_t n;
	int rc = 0;

	if (podlist_read(doc, source, &pods, &n, &err) < 0)
		return msg_err(&err);
	if (!n)
		msg_error("%s has no pods", where);
	for (size_t i = 0; i < n && !rc; i++) {
		long port = r->port ? r->port : pods[i].port;
		const char *path = r->path ? r->path : "/actuator/info";
		struct vtarget *t;
		char *url;

		if (!port) {
			rc = msg_usage(CMD,
				       "pod '%s' declares no container port; "
				       "give one with --port",
				       pods[i].name);
			break;
		}
		url = api ? k8s_proxy_url(api,
					  pods[i].namespace ? pods[i].namespace
							    : "default",
					  pods[i].pod_name, port, path)
			  : podlist_url(&pods[i], "http", port, path);
		if (!url || verify_add_target(&r->v, pods[i].name, url,
					      pods[i].ip, &err) < 0) {
			free(url);
			rc = msg_err(&err);
			break;
		}
		free(url);
		t = &r->v.targets[r->v.ntargets - 1];
		t->proxied = api != NULL;
		t->terminating = pods[i].terminating;
		t->not_ready = !pods[i].ready;
		if (!pods[i].ip && !t->terminating) {
			t->asked = true;
			t->fixed = true;
			t->verdict = V_UNREACHABLE;
			t->values = calloc(r->v.nfields, sizeof(*t->values));
			t->kinds = calloc(r->v.nfields, sizeof(*t->kinds));
			t->reason = strdup(pods[i].phase && *pods[i].phase
						   ? "pod has no IP yet"
						   : "pod has no IP");
		}
	}
	podlist_free(pods, n);
	return rc;
}

static int load_kubectl(struct verify_run *r)
{
	const char *name = strcmp(r->kubectl_file, "-") ? r->kubectl_file
							: "standard input";
	struct sd_err err = {0};
	char where[600];
	json_error_t jerr;
	char *text;
	size_t len;
	json_t *doc;
	int rc;

	if (fs_read_file(r->kubectl_file, 256 << 20, &text, &len, &err) < 0)
		return msg_err(&err);
	doc = json_loadb(text, len, 0, &jerr);
	free(text);
	if (!doc) {
		msg_error("'%s' is not valid JSON: line %d, column %d: %s",
			  name, jerr.line, jerr.column, jerr.text);
		return SD_EXIT_CANNOT;
	}
	snprintf(where, sizeof(where), "the pod list in '%s'", name);
	rc = add_pods(r, doc, name, where, NULL);
	json_decref(doc);
	return rc;
}

/* --k8s: the API from --k8s-api, the in-cluster account, or a kubeconfig;
 * every page of the namespace's pods that match the selector. */
static int load_k8s(struct verify_run *r)
{
	struct sd_err err = {0};
	const char *ns;
	char where[600];
	json_t *doc;
	int rc;

	if (r->k8s_api)
		rc = k8s_from_url(&r->api, r->k8s_api, &err);
	else if ((rc = k8s_in_cluster(&r->api, &err)) == 1)
		rc = k8s_from_kubeconfig(&r->api, r->kubeconfig, r->context,
					 &err);
	if (rc < 0)
		return msg_err(&err);
	ns = r->namespace	? r->namespace
	     : r->api.namespace ? r->api.namespace
				: "default";
	if (k8s_list_pods(&r->api, &r->http, ns, r->selector, r->chunk,
			  progress_monotonic_ms() + r->deadline, &doc,
			  &err) < 0)
		return msg_err(&err);
	snprintf(where, sizeof(where), "namespace '%s'%s%s%s", ns,
		 r->selector ? " (selector '" : "",
		 r->selector ? r->selector : "", r->selector ? "')" : "");
	if (r->via_proxy) {
		/* Pods are then asked through the API, with its credentials. */
		if (k8s_auth_header(&r->api, r->auth, sizeof(r->auth), &err) <
		    0) {
			json_decref(doc);
			return msg_err(&err);
		}
		k8s_http_options(&r->api, &r->http);
		if (r->auth[0] &&
		    push(&r->headers, &r->nheaders, r->auth) < 0) {
			json_decref(doc);
			return msg_error("out of memory"), SD_EXIT_CANNOT;
		}
		r->http.headers = r->headers;
		r->http.nheaders = r->nheaders;
	}
	rc = add_pods(r, doc, r->api.server, where,
		      r->via_proxy ? &r->api : NULL);
	json_decref(doc);
	return rc;
}

/* Ask every target that can be asked, all at once, by deadline_ms. */
static int fetch(struct verify_run *r, struct http_client *client,
		 int64_t deadline_ms)
{
	struct sd_err err = {0};
	const char **urls = calloc(r->v.ntargets + 1, sizeof(*urls));
	size_t *index = calloc(r->v.ntargets + 1, sizeof(*index));
	struct http_result *results =
		calloc(r->v.ntargets + 1, sizeof(*results));
	size_t n = 0;
	int rc = 0;

	if (!urls || !index || !results) {
		rc = SD_EXIT_CANNOT;
		msg_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->v.ntargets; i++) {
		struct vtarget *t = &r->v.targets[i];

		if (t->terminating) {
			t->verdict = V_TERMINATING;
			t->reason = strdup("pod is terminating");
			t->values = calloc(r->v.nfields, sizeof(*t->values));
			t->kinds = calloc(r->v.nfields, sizeof(*t->kinds));
			continue;
		}
		if (t->asked)
			continue;
		index[n] = i;
		urls[n++] = t->url;
	}
	http_set_deadline(client, deadline_ms);
	if (http_get_all(client, urls, n, results, &err) < 0) {
		rc = msg_err(&err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		verify_read_answer(&r->v, &r->v.targets[index[i]], &results[i]);
		http_result_release(&results[i]);
	}
out:
	free(results);
	free(index);
	free(urls);
	return rc;
}

/* Rounds until every rule holds or --wait runs out; one round without it.
 * The client keeps its connections from one round to the next. */
static int run_rounds(struct verify_run *r, int *status)
{
	int64_t start = progress_monotonic_ms();
	int64_t wait_end = start + r->wait_ms;
	struct sd_err err = {0};
	struct http_client *client = http_client_new(&r->http, &err);
	struct progress bar;
	int rounds = 0, rc = 0;

	if (!client)
		return msg_err(&err);
	progress_start(&bar, STDERR_FILENO, "waiting for agreement",
		       r->v.ntargets);
	for (;;) {
		/* --wait decides whether to start a round; a round once started
		 * has its whole --deadline, so that its verdicts are real. */
		int64_t now = progress_monotonic_ms(),
			deadline = now + r->deadline;
		char took[32];

		if (rounds)
			verify_reset(&r->v);
		rounds++;
		if ((rc = fetch(r, client, deadline)))
			break;
		verify_judge(&r->v);
		*status = verify_exit_status(&r->v);
		progress_update(&bar, r->v.counts[V_MATCH]);
		now = progress_monotonic_ms();
		if (!r->wait_ms)
			break;
		if (*status == 0) {
			progress_finish(&bar);
			msg_error("every rule holds after %d round%s (%s)",
				  rounds, rounds == 1 ? "" : "s",
				  units_format_duration(now - start, took,
							sizeof(took)));
			break;
		}
		if (now + r->interval_ms >= wait_end) {
			progress_finish(&bar);
			msg_error(
				"still failing after %d round%s over %s (--wait)",
				rounds, rounds == 1 ? "" : "s",
				units_format_duration(now - start, took,
						      sizeof(took)));
			break;
		}
		usleep((useconds_t)r->interval_ms * 1000);
	}
	progress_finish(&bar);
	http_client_free(client);
	return rc;
}

/* --on-fail: run CMD through /bin/sh with the verdicts in the environment;
 * report its status. The verify exit status does not change. */
static void run_on_fail(const struct verify_run *r, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char file[] = "/tmp/safedeploy-verify-XXXXXX";
	int fd = mkstemp(file);
	pid_t pid;
	int wstatus;

	if (!text || fd < 0 || fs_write_all(fd, text, strlen(text)) < 0) {
		msg_error("--on-fail: cannot write the verdicts");
		if (fd >= 0)
			close(fd), unlink(file);
		free(text);
		return;
	}
	close(fd);
	/* The environment holds at most ~128 KiB per variable: a large fleet's
	 * verdicts are in the file only. */
	if (strlen(text) > 120000) {
		free(text);
		text = strdup("{\"version\":1,\"truncated\":true}");
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setenv("SAFEDEPLOY_VERIFY_JSON", text ? text : "{}", 1);
		setenv("SAFEDEPLOY_VERIFY_JSON_FILE", file, 1);
		/* With --json, stdout holds our one document. */
		if (r->json)
			dup2(STDERR_FILENO, STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", r->on_fail, (char *)NULL);
		_exit(127);
	}
	free(text);
	if (pid < 0 || waitpid(pid, &wstatus, 0) < 0)
		msg_error("--on-fail: cannot run '%s'", r->on_fail);
	else if (WIFEXITED(wstatus))
		msg_error("--on-fail command exited with status %d",
			  WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		msg_error("--on-fail command was killed by signal %d",
			  WTERMSIG(wstatus));
	unlink(file);
}

static const char *verdict_color(enum verdict v)
{
	switch (v) {
	case V_MATCH:
		return COLOR_GREEN;
	case V_UNREACHABLE:
		return COLOR_YELLOW;
	case V_TERMINATING:
		return COLOR_DIM;
	default:
		return COLOR_RED;
	}
}

static int width_of(const char *s)
{
	return s ? (int)strlen(s) : 1;
}

/* One table row, without trailing blanks. */
static void print_row(char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == ' ')
		line[--n] = '\0';
	puts(line);
}

static void print_table(const struct verify *v)
{
	int wname = 6, waddr = 7, wverdict = 11, wf[64] = {0};
	size_t nf = v->nfields < 64 ? v->nfields : 64, used;
	char line[8192];

#define ADD(...)                                                               \
	do {                                                                   \
		if (used < sizeof(line))                                       \
			used += (size_t)snprintf(line + used,                  \
						 sizeof(line) - used,          \
						 __VA_ARGS__);                 \
	} while (0)
	for (size_t f = 0; f < nf; f++)
		wf[f] = width_of(v->fields[f].name);
	for (size_t i = 0; i < v->ntargets; i++) {
		const struct vtarget *t = &v->targets[i];

		if (width_of(t->name) > wname)
			wname = width_of(t->name);
		if (width_of(t->address) > waddr)
			waddr = width_of(t->address);
		for (size_t f = 0; f < nf; f++)
			if (t->values && width_of(t->values[f]) > wf[f])
				wf[f] = width_of(t->values[f]);
	}
	used = 0;
	ADD("%-*s  %-*s  %-*s", wname, "TARGET", waddr, "ADDRESS", wverdict,
	    "VERDICT");
	for (size_t f = 0; f < nf; f++)
		ADD("  %-*s", wf[f], v->fields[f].name);
	ADD("  NOTE");
	print_row(line);
	for (size_t i = 0; i < v->ntargets; i++) {
		const struct vtarget *t = &v->targets[i];

		used = 0;
		ADD("%-*s  %-*s  %s%-*s%s", wname, t->name, waddr,
		    t->address ? t->address : "-",
		    color_code(STDOUT_FILENO, verdict_color(t->verdict)),
		    wverdict, verdict_names[t->verdict],
		    color_code(STDOUT_FILENO, COLOR_RESET));
		for (size_t f = 0; f < nf; f++)
			ADD("  %-*s", wf[f],
			    t->values && t->values[f] ? t->values[f] : "-");
		if (t->verdict != V_MATCH && t->reason)
			ADD("  %s", t->reason);
		print_row(line);
	}
#undef ADD
}

static json_t *to_json(const struct verify *v, int status, json_t *summary)
{
	json_t *doc = json_object(), *targets = json_array(),
	       *fields = json_array(), *rules = json_array(),
	       *counts = json_object();

	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "ok", json_boolean(status == 0));
	json_object_set_new(doc, "exit", json_integer(status));
	json_object_set(doc, "summary", summary);
	for (int i = 0; i <= V_NOT_READY; i++)
		json_object_set_new(counts, verdict_names[i],
				    json_integer((json_int_t)v->counts[i]));
	json_object_set_new(doc, "counts", counts);
	for (size_t f = 0; f < v->nfields; f++)
		json_array_append_new(fields,
				      json_pack("{s:s, s:s}", "name",
						v->fields[f].name, "path",
						v->fields[f].path));
	json_object_set_new(doc, "fields", fields);
	for (size_t i = 0; i < v->nrules; i++) {
		const struct vrule *r = &v->rules[i];
		static const char *const kinds[] = {
			[R_EXPECT] = "expect",
			[R_SAME] = "same",
			[R_SAME_PREFIX] = "same-prefix",
			[R_EXACTLY_ONE] = "exactly-one",
			[R_MIN] = "min-targets",
		};
		json_t *row = json_pack("{s:s, s:b}", "rule", kinds[r->kind],
					"ok", r->ok);

		if (r->name)
			json_object_set_new(row, "field", json_string(r->name));
		if (r->value)
			json_object_set_new(row, "value",
					    json_string(r->value));
		if (r->path)
			json_object_set_new(row, "path", json_string(r->path));
		if (r->kind == R_MIN)
			json_object_set_new(row, "min", json_integer(r->min));
		json_object_set_new(row, "message",
				    r->message ? json_string(r->message)
					       : json_null());
		json_array_append_new(rules, row);
	}
	json_object_set_new(doc, "rules", rules);
	for (size_t i = 0; i < v->ntargets; i++) {
		const struct vtarget *t = &v->targets[i];
		json_t *values = json_object();
		json_t *row = json_pack("{s:s, s:s, s:s, s:f}", "name", t->name,
					"url", t->url, "verdict",
					verdict_names[t->verdict], "seconds",
					t->seconds);

		json_object_set_new(row, "address",
				    t->address ? json_string(t->address)
					       : json_null());
		json_object_set_new(row, "reason",
				    t->verdict != V_MATCH && t->reason
					    ? json_string(t->reason)
					    : json_null());
		for (size_t f = 0; f < v->nfields; f++)
			json_object_set_new(values, v->fields[f].name,
					    t->values && t->values[f]
						    ? json_string(t->values[f])
						    : json_null());
		json_object_set_new(row, "values", values);
		json_array_append_new(targets, row);
	}
	json_object_set_new(doc, "targets", targets);
	return doc;
}

static int write_junit(const struct verify *v, const char *path)
{
	struct sd_err err = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	size_t failures = v->counts[V_MISMATCH] + v->counts[V_INVALID] +
			  v->counts[V_NOT_READY];
	double total = 0;
	int rc;

	if (!out)
		return msg_error("out of memory"), SD_EXIT_CANNOT;
	for (size_t i = 0; i < v->ntargets; i++)
		total += v->targets[i].seconds;
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites>\n"
		"  <testsuite name=\"safedeploy verify\" tests=\"%zu\" "
		"failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" "
		"time=\"%.3f\">\n",
		v->ntargets, failures, v->counts[V_UNREACHABLE],
		v->counts[V_TERMINATING], total);
	for (size_t i = 0; i < v->ntargets; i++) {
		const struct vtarget *t = &v->targets[i];

		fputs("    <testcase classname=\"safedeploy.verify\" name=\"",
		      out);
		markup_escape(out, t->name);
		fprintf(out, "\" time=\"%.3f\"", t->seconds);
		if (t->verdict == V_MATCH) {
			fputs("/>\n", out);
			continue;
		}
		fputs(">\n      <", out);
		fputs(t->verdict == V_UNREACHABLE   ? "error"
		      : t->verdict == V_TERMINATING ? "skipped"
						    : "failure",
		      out);
		fputs(" message=\"", out);
		markup_escape(out, verdict_names[t->verdict]);
		fputs(": ", out);
		markup_escape(out, t->reason);
		fputs("\"/>\n    </testcase>\n", out);
	}
	fputs("  </testsuite>\n</testsuites>\n", out);
	fclose(out);
	rc = fs_write_atomic(path, buf, len, 0644, &err);
	free(buf);
	return rc < 0 ? msg_err(&err) : 0;
}

int cmd_verify(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct verify_run r = {0};
	struct flags f = {0};
	json_t *summary = NULL, *doc = NULL, *line;
	int rc, status = 0;
	size_t i;

	verify_init(&r.v);
	config_init(&r.cfg);
	k8s_init(&r.api);
	/* One socket per target: a large fleet needs more than the usual
	 * soft limit of open files. */
	{
		struct rlimit lim;

		if (getrlimit(RLIMIT_NOFILE, &lim) == 0 &&
		    lim.rlim_cur < lim.rlim_max) {
			lim.rlim_cur = lim.rlim_max;
			setrlimit(RLIMIT_NOFILE, &lim);
		}
	}
	r.deadline = 60000;
	r.interval_ms = 2000;
	rc = parse_args(&r, &f, argc, argv, ctx);
	if (rc)
		goto out;
	config_release(&r.cfg);
	if ((rc = cmd_load_config(ctx, &r.cfg)) || (rc = apply_config(&r)) ||
	    (rc = apply_flags(&r, &f)))
		goto out;
	for (i = 0; i < r.nurls && !rc; i++)
		rc = add_url(&r, r.urls[i], "");
	if (!rc && r.targets_file)
		rc = load_targets_file(&r);
	if (!rc && r.kubectl_file)
		rc = load_kubectl(&r);
	if (!rc &&
	    (r.namespace || r.selector || r.k8s_api || r.kubeconfig ||
	     r.context || r.via_proxy) &&
	    !r.k8s)
		rc = msg_usage(CMD,
			       "--namespace, --selector, --k8s-api, "
			       "--kubeconfig, --context, --via-api-proxy and "
			       "--chunk-size "
			       "go with --k8s");
	if (!rc && r.k8s)
		rc = load_k8s(&r);
	if (!rc && !r.nurls && !r.targets_file && !r.kubectl_file && !r.k8s)
		rc = msg_usage(CMD, "no targets: give --url, --targets, "
				    "--kubectl-json or --k8s");
	if (rc || (rc = run_rounds(&r, &status)))
		goto out;
	rc = status;
	summary = verify_summary(&r.v);
	doc = to_json(&r.v, rc, summary);
	if (r.json) {
		cmd_print_json(doc);
	} else {
		if (r.v.ntargets)
			print_table(&r.v);
		json_array_foreach(summary, i, line)
			printf("%s%s\n", i == 0 && r.v.ntargets ? "\n" : "",
			       json_string_value(line));
		fflush(stdout);
	}
	if (r.junit) {
		int jrc = write_junit(&r.v, r.junit);

		if (jrc && !rc)
			rc = jrc;
	}
	if (rc && r.on_fail)
		run_on_fail(&r, doc);
out:
	json_decref(doc);
	json_decref(summary);
	free(r.urls);
	free(r.headers);
	free(f.fields);
	verify_release(&r.v);
	config_release(&r.cfg);
	k8s_release(&r.api);
	return rc < 0 ? SD_EXIT_OK : rc;
}
