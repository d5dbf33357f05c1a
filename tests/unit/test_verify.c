/* Unit tests for lib/verify.c (judging answers) and lib/podlist.c. */
#include "podlist.h"
#include "unit.h"
#include "verify.h"

/* A target that answered 200 with body. */
static void answer(struct verify *v, const char *name, const char *body)
{
	struct http_result r = {0};
	struct sd_err err = {0};
	char url[128];

	snprintf(url, sizeof(url), "http://%s/", name);
	CHECK_INT(verify_add_target(v, name, url, NULL, &err), 0);
	r.status = 200;
	r.body = (char *)body;
	r.len = strlen(body);
	verify_read_answer(v, &v->targets[v->ntargets - 1], &r);
}

static void failed(struct verify *v, const char *name,
		   enum http_failure failure, long status, const char *error)
{
	struct http_result r = {0};
	struct sd_err err = {0};
	char url[128];

	snprintf(url, sizeof(url), "http://%s/", name);
	CHECK_INT(verify_add_target(v, name, url, NULL, &err), 0);
	r.failure = failure;
	r.status = status;
	snprintf(r.error, sizeof(r.error), "%s", error);
	verify_read_answer(v, &v->targets[v->ntargets - 1], &r);
}

static const char *line(json_t *summary, size_t i)
{
	return json_string_value(json_array_get(summary, i));
}

#define INFO(ver, commit)                                                      \
	"{\"build\":{\"version\":\"" ver                                       \
	"\"},\"git\":{\"commit\":{\"id\":\"" commit "\"}}}"

static void one_old_pod_is_named(void)
{
	struct sd_err err = {0};
	struct verify v;
	json_t *s;

	verify_init(&v);
	CHECK_INT(verify_check(&v, &err), 0);
	answer(&v, "a", INFO("1.2.3", "4f2a9c1"));
	answer(&v, "b", INFO("1.2.3", "4f2a9c1"));
	answer(&v, "c", INFO("1.1.0", "9e0d3b2"));
	verify_judge(&v);
	CHECK_INT(v.targets[2].verdict, V_MISMATCH);
	CHECK_STR(v.targets[2].reason, "version=1.1.0 (2 others say 1.2.3); "
				       "commit=9e0d3b2 (2 others say 4f2a9c1)");
	CHECK_INT(verify_exit_status(&v), SD_EXIT_FAIL);
	s = verify_summary(&v);
	CHECK_STR(line(s, 0), "2 of 3 targets agree: version=1.2.3 "
			      "commit=4f2a9c1");
	CHECK_STR(line(s, 1), "1 differs: c version=1.1.0 commit=9e0d3b2");
	json_decref(s);
	verify_release(&v);
}

static void commits_match_by_prefix_of_seven(void)
{
	struct vfield commit = {.name = "commit", .commit = true};
	struct vfield version = {.name = "version"};

	CHECK(verify_values_equal(&commit, "4f2a9c1", "4f2a9c1e8b7d6a5f"));
	CHECK(verify_values_equal(&commit, "4F2A9C1E", "4f2a9c1e8b"));
	CHECK(!verify_values_equal(&commit, "4f2a9c", "4f2a9c1e8b"));
	CHECK(!verify_values_equal(&commit, "4f2a9c2", "4f2a9c1e8b"));
	CHECK(!verify_values_equal(&version, "1234567", "12345678"));
}

static void spring_full_mode_commit_object(void)
{
	struct sd_err err = {0};
	struct verify v;

	verify_init(&v);
	CHECK_INT(verify_add_rule(&v, R_EXPECT, "commit=4f2a9c1", &err), 0);
	CHECK_INT(verify_check(&v, &err), 0);
	answer(&v, "a",
	       "{\"build\":{\"version\":\"1\"},\"git\":{\"commit\":{\"id\":"
	       "{\"full\":\"4f2a9c1e8b7d\",\"abbrev\":\"4f2a9c1\"}}}}");
	verify_judge(&v);
	CHECK_INT(v.targets[0].verdict, V_MATCH);
	CHECK_STR(v.targets[0].values[1], "4f2a9c1e8b7d");
	CHECK_INT(verify_exit_status(&v), 0);
	verify_release(&v);
}

static void bad_answers_are_invalid_or_unreachable(void)
{
	struct sd_err err = {0};
	struct verify v;

	verify_init(&v);
	CHECK_INT(verify_check(&v, &err), 0);
	answer(&v, "html", "<html></html>");
	answer(&v, "missing", "{\"build\":{}}");
	answer(&v, "object", "{\"build\":{\"version\":{}},\"git\":{}}");
	answer(&v, "ctrl", INFO("1\\u001b[2J", "a"));
	failed(&v, "500", HTTP_OK, 500, "");
	failed(&v, "302", HTTP_OK, 302, "");
	failed(&v, "refused", HTTP_CONNECT, 0, "Connection refused");
	failed(&v, "big", HTTP_TOO_LARGE, 200, "answer larger than 10 bytes");
	verify_judge(&v);
	CHECK_INT(v.targets[0].verdict, V_INVALID);
	CHECK_CONTAINS(v.targets[0].reason, "answer is not JSON: line 1");
	CHECK_STR(v.targets[1].reason,
		  "field 'version': 'build.version': 'version' is missing");
	CHECK_STR(
		v.targets[2].reason,
		"field 'version' ('build.version') is an object, not a value");
	CHECK_STR(v.targets[3].reason,
		  "field 'version' contains control characters");
	CHECK(v.targets[3].values[0] == NULL);
	CHECK_STR(v.targets[4].reason, "HTTP 500");
	CHECK_CONTAINS(v.targets[5].reason, "not followed (use --follow)");
	CHECK_INT(v.targets[6].verdict, V_UNREACHABLE);
	CHECK_INT(v.targets[7].verdict, V_INVALID);
	CHECK_INT(v.counts[V_INVALID], 7);
	CHECK_INT(verify_exit_status(&v), SD_EXIT_FAIL);
	verify_release(&v);
}

static void unreachable_alone_exits_four(void)
{
	struct sd_err err = {0};
	struct verify v;

	verify_init(&v);
	CHECK_INT(verify_check(&v, &err), 0);
	answer(&v, "a", INFO("1", "a"));
	failed(&v, "b", HTTP_TIMEOUT, 0, "no answer within 5.0s");
	verify_judge(&v);
	CHECK_INT(verify_exit_status(&v), SD_EXIT_CANNOT);
	v.allow_unreachable = 1;
	CHECK_INT(verify_exit_status(&v), 0);
	verify_release(&v);
}

static void exactly_one_primary(void)
{
	struct sd_err err = {0};
	struct verify v;
	json_t *s;

	verify_init(&v);
	CHECK_INT(verify_add_field(&v, "role=role", &err), 0);
	CHECK_INT(verify_add_rule(&v, R_EXACTLY_ONE, "role=primary", &err), 0);
	CHECK_INT(verify_check(&v, &err), 0);
	/* No default --same for the role: replicas differ from the primary. */
	CHECK_INT(v.nrules, 1);
	answer(&v, "a", "{\"role\":\"primary\"}");
	answer(&v, "b", "{\"role\":\"replica\"}");
	verify_judge(&v);
	CHECK_INT(verify_exit_status(&v), 0);
	answer(&v, "c", "{\"role\":\"primary\"}");
	verify_judge(&v);
	CHECK_INT(verify_exit_status(&v), SD_EXIT_FAIL);
	CHECK_STR(v.rules[0].message,
		  "2 targets say role=primary (a, c); exactly one may");
	s = verify_summary(&v);
	CHECK_STR(line(s, 0), "1 of 3 targets agree: role=replica");
	json_decref(s);
	verify_release(&v);
}

static void same_prefix_finds_a_flipped_or_missing_flag(void)
{
	struct sd_err err = {0};
	struct verify v;

	verify_init(&v);
	CHECK_INT(verify_add_field(&v, "version=v", &err), 0);
	CHECK_INT(verify_add_rule(&v, R_SAME_PREFIX, "features", &err), 0);
	CHECK_INT(verify_check(&v, &err), 0);
	answer(&v, "a", "{\"v\":1,\"features\":{\"x\":\"on\",\"y\":true}}");
	answer(&v, "b", "{\"v\":1,\"features\":{\"x\":\"on\",\"y\":true}}");
	answer(&v, "c", "{\"v\":1,\"features\":{\"x\":\"on\"}}");
	verify_judge(&v);
	CHECK_INT(v.targets[2].verdict, V_MISMATCH);
	CHECK_STR(v.targets[2].reason, "features.y=(absent) (others true)");
	CHECK_INT(v.targets[0].verdict, V_MATCH);
	verify_release(&v);
}

static void mixed_types_compare_as_text_and_say_so(void)
{
	struct sd_err err = {0};
	struct verify v;

	verify_init(&v);
	CHECK_INT(verify_add_field(&v, "version=v", &err), 0);
	CHECK_INT(verify_check(&v, &err), 0);
	answer(&v, "a", "{\"v\":2}");
	answer(&v, "b", "{\"v\":\"2\"}");
	verify_judge(&v);
	CHECK_INT(verify_exit_status(&v), 0);
	CHECK_INT(json_array_size(v.notes), 1);
	CHECK_CONTAINS(json_string_value(json_array_get(v.notes, 0)),
		       "is a number on some targets and a string on others");
	verify_release(&v);
}

static void min_targets_and_zero_targets(void)
{
	struct sd_err err = {0};
	struct verify v;
	json_t *s;

	verify_init(&v);
	CHECK_INT(verify_add_rule(&v, R_MIN, "2", &err), 0);
	CHECK_INT(verify_check(&v, &err), 0);
	verify_judge(&v);
	CHECK_INT(verify_exit_status(&v), SD_EXIT_FAIL); /* no targets */
	s = verify_summary(&v);
	CHECK_STR(line(s, 0), "no targets: nothing was checked");
	json_decref(s);
	answer(&v, "a", INFO("1", "a"));
	verify_judge(&v);
	CHECK_STR(v.rules[0].message,
		  "only 1 target agree; --min-targets is 2");
	CHECK_INT(verify_exit_status(&v), SD_EXIT_FAIL);
	verify_release(&v);
}

static void bad_specs_are_usage_errors(void)
{
	struct sd_err err = {0};
	struct verify v;

	verify_init(&v);
	CHECK_INT(verify_add_field(&v, "version", &err), -1);
	CHECK_INT(err.code, SD_EXIT_USAGE);
	CHECK_INT(verify_add_field(&v, "=a", &err), -1);
	CHECK_INT(verify_add_field(&v, "v=prom:nolabel", &err), -1);
	CHECK_CONTAINS(err.msg, "prom:METRIC.LABEL");
	CHECK_INT(verify_add_field(&v, "v=a[x]", &err), -1);
	CHECK_INT(verify_add_rule(&v, R_MIN, "0", &err), -1);
	CHECK_INT(verify_add_rule(&v, R_EXPECT, "noequals", &err), -1);
	CHECK_INT(verify_add_rule(&v, R_SAME, "role", &err), 0);
	CHECK_INT(verify_check(&v, &err), -1);
	CHECK_CONTAINS(err.msg, "--same: unknown field 'role'");
	/* The same URL twice is one target. */
	CHECK_INT(verify_add_target(&v, "a", "http://a/", NULL, &err), 0);
	CHECK_INT(verify_add_target(&v, "a2", "http://a/", NULL, &err), 1);
	CHECK_INT(v.ntargets, 1);
	verify_release(&v);
}

static void podlists_are_read(void)
{
	const char *text =
		"{\"kind\":\"PodList\",\"items\":["
		"{\"metadata\":{\"name\":\"w1\",\"namespace\":\"prod\"},"
		"\"spec\":{\"containers\":[{\"ports\":[{\"containerPort\":9090},"
		"{\"name\":\"http\",\"containerPort\":8080}]}]},"
		"\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\","
		"\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}},"
		"{\"metadata\":{\"name\":\"w2\",\"deletionTimestamp\":\"x\"},"
		"\"status\":{\"podIP\":\"fd00::2\",\"conditions\":[{\"type\":"
		"\"Ready\",\"status\":\"False\"}]}},"
		"{\"metadata\":{\"name\":\"w3\"},\"status\":{\"phase\":"
		"\"Pending\"}}]}";
	json_t *doc = json_loads(text, 0, NULL);
	struct sd_err err = {0};
	struct pod *pods;
	size_t n;
	char *url;

	CHECK_INT(podlist_read(doc, "p", &pods, &n, &err), 0);
	CHECK_INT(n, 3);
	CHECK_STR(pods[0].name, "prod/w1");
	CHECK_INT(pods[0].port, 8080); /* the one named http */
	CHECK(pods[0].ready && !pods[0].terminating);
	CHECK(pods[1].terminating && !pods[1].ready);
	CHECK(pods[2].ip == NULL);
	CHECK_STR(pods[2].phase, "Pending");
	url = podlist_url(&pods[1], "http", 8080, "/actuator/info");
	CHECK_STR(url, "http://[fd00::2]:8080/actuator/info");
	free(url);
	podlist_free(pods, n);
	json_decref(doc);

	doc = json_loads("{\"kind\":\"List\",\"items\":[{\"kind\":\"Service\","
			 "\"metadata\":{\"name\":\"s\"}}]}",
			 0, NULL);
	CHECK_INT(podlist_read(doc, "p", &pods, &n, &err), -1);
	CHECK_STR(err.msg, "'p': item 0 is not a pod with a name (kind "
			   "'Service')");
	json_decref(doc);
	doc = json_loads("{\"kind\":\"Deployment\"}", 0, NULL);
	CHECK_INT(podlist_read(doc, "p", &pods, &n, &err), -1);
	CHECK_CONTAINS(err.msg, "not a pod list (kind 'Deployment')");
	json_decref(doc);
	doc = json_loads("[1]", 0, NULL);
	CHECK_INT(podlist_read(doc, "p", &pods, &n, &err), -1);
	CHECK_CONTAINS(err.msg, "kind missing");
	json_decref(doc);
}

int main(void)
{
	RUN(one_old_pod_is_named, "verify: the one old pod is named");
	RUN(commits_match_by_prefix_of_seven,
	    "verify: commits match by a prefix of 7 or more, versions do not");
	RUN(spring_full_mode_commit_object,
	    "verify: Spring's {full, abbrev} commit object");
	RUN(bad_answers_are_invalid_or_unreachable,
	    "verify: HTML, missing field, object, control chars, 500, 302");
	RUN(unreachable_alone_exits_four,
	    "verify: unreachable alone is exit 4, unless allowed");
	RUN(exactly_one_primary, "verify: exactly one primary");
	RUN(same_prefix_finds_a_flipped_or_missing_flag,
	    "verify: --same-prefix finds an absent flag");
	RUN(mixed_types_compare_as_text_and_say_so,
	    "verify: a number and a string compare as text, with a note");
	RUN(min_targets_and_zero_targets,
	    "verify: zero targets fails; --min-targets");
	RUN(bad_specs_are_usage_errors, "verify: bad fields and rules");
	RUN(podlists_are_read,
	    "podlist: List and PodList, ports, IPv6, errors");
	UNIT_DONE();
}
