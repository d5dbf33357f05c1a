/* Unit tests for lib/cond.c: Gatus-style probe conditions, parsed strictly,
 * evaluated and rendered as Gatus renders them. */
#include "cond.h"
#include "unit.h"

static char out[8192];

/* Values of a check that went well, and of one that did not. */
static struct cond_values good(const char *body)
{
	struct cond_values v;

	cond_values_init(&v);
	v.status = 200;
	v.response_time_ms = 250;
	v.ip = "192.168.1.10";
	v.connected = 1;
	v.cert_expiry_ms = 30 * 86400000LL;
	v.dns_rcode = "NOERROR";
	v.body = body;
	v.body_len = body ? strlen(body) : 0;
	return v;
}

static struct cond_values bad(const char *body)
{
	struct cond_values v = good(body);

	v.status = 500;
	v.response_time_ms = 1500;
	v.ip = "10.0.0.1";
	v.connected = 0;
	v.cert_expiry_ms = 86400000LL;
	v.dns_rcode = "NXDOMAIN";
	return v;
}

/* 1 or 0 as cond_eval says, with the rendering in out; -1 (and the error
 * in out) when the condition does not parse. */
static int eval(const char *text, struct cond_values v)
{
	struct sd_err err = {0};
	struct cond *c = cond_parse(text, &err);
	int r;

	if (!c) {
		snprintf(out, sizeof(out), "%s", err.msg);
		return -1;
	}
	r = cond_eval(c, &v, out, sizeof(out));
	cond_values_release(&v);
	cond_free(c);
	return r;
}

#define CHECK_EVAL(text, values, want, rendering)                              \
	do {                                                                   \
		CHECK_INT(eval(text, values), want);                           \
		CHECK_STR(out, rendering);                                     \
	} while (0)

/* The message cond_parse gives, or "(parsed)". */
static const char *parse_error(const char *text)
{
	static struct sd_err err;
	struct cond *c;

	memset(&err, 0, sizeof(err));
	c = cond_parse(text, &err);
	if (c) {
		cond_free(c);
		return "(parsed)";
	}
	if (err.code != SD_EXIT_USAGE)
		return "(wrong exit code)";
	return err.msg;
}

#define CHECK_ERR(text, message) CHECK_STR(parse_error(text), message)

/* probe.md §2.7, each against a check where it holds. */
static void gatus_examples_hold(void)
{
	CHECK_EVAL("[STATUS] == 200", good(NULL), 1, "[STATUS] (200) == 200");
	CHECK_EVAL("[STATUS] == any(200, 204, 429)", good(NULL), 1,
		   "[STATUS] (200) == any(200, 204, 429)");
	CHECK_EVAL("[STATUS] < 300", good(NULL), 1, "[STATUS] (200) < 300");
	CHECK_EVAL("[RESPONSE_TIME] < 300", good(NULL), 1,
		   "[RESPONSE_TIME] (250) < 300");
	CHECK_EVAL("[RESPONSE_TIME] < 1s", good(NULL), 1,
		   "[RESPONSE_TIME] (250) < 1s");
	CHECK_EVAL("[BODY].status == UP", good("{\"status\":\"UP\"}"), 1,
		   "[BODY].status (UP) == UP");
	CHECK_EVAL("[BODY].data[0].id == 1",
		   good("{\"data\": [{\"id\": 1}, {\"id\": 2}]}"), 1,
		   "[BODY].data[0].id (1) == 1");
	CHECK_EVAL(
		"[BODY].user.firstName != [BODY].user.lastName",
		good("{\"user\": {\"firstName\": \"john\", "
		     "\"lastName\": \"doe\"}}"),
		1,
		"[BODY].user.firstName (john) != [BODY].user.lastName (doe)");
	CHECK_EVAL("len([BODY].items) >= 1", good("{\"items\": [1, 2, 3]}"), 1,
		   "len([BODY].items) (3) >= 1");
	CHECK_EVAL("has([BODY].errors) == false", good("{}"), 1,
		   "has([BODY].errors) (false) == false");
	CHECK_EVAL("[BODY].version == pat(2.*)",
		   good("{\"version\": \"2.4.1\"}"), 1,
		   "[BODY].version (2.4.1) == pat(2.*)");
	CHECK_EVAL("[BODY] == pat(*<h1>Example Domain</h1>*)",
		   good("<html><body><h1>Example Domain</h1></body></html>"), 1,
		   "[BODY] (<html><body><h1>Example D...(truncated)) == "
		   "pat(*<h1>Example Domain</h1>*)");
	CHECK_EVAL("[IP] == pat(192.168.*)", good(NULL), 1,
		   "[IP] (192.168.1.10) == pat(192.168.*)");
	CHECK_EVAL("[CONNECTED] == true", good(NULL), 1,
		   "[CONNECTED] (true) == true");
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 336h", good(NULL), 1,
		   "[CERTIFICATE_EXPIRATION] (720h) > 336h");
	CHECK_EVAL("[DNS_RCODE] == NOERROR", good(NULL), 1,
		   "[DNS_RCODE] (NOERROR) == NOERROR");
	CHECK_EVAL("[BODY] == pat(*.*.*.*)", good("93.184.215.14\n"), 1,
		   "[BODY] (93.184.215.14) == pat(*.*.*.*)");
}

/* The same examples against a check where they do not. */
static void gatus_examples_fail(void)
{
	CHECK_EVAL("[STATUS] == 200", bad(NULL), 0, "[STATUS] (500) == 200");
	CHECK_EVAL("[STATUS] == any(200, 204, 429)", bad(NULL), 0,
		   "[STATUS] (500) == any(200, 204, 429)");
	CHECK_EVAL("[STATUS] < 300", bad(NULL), 0, "[STATUS] (500) < 300");
	CHECK_EVAL("[RESPONSE_TIME] < 300", bad(NULL), 0,
		   "[RESPONSE_TIME] (1500) < 300");
	CHECK_EVAL("[RESPONSE_TIME] < 1s", bad(NULL), 0,
		   "[RESPONSE_TIME] (1500) < 1s");
	CHECK_EVAL("[BODY].status == UP", bad("{\"status\":\"DOWN\"}"), 0,
		   "[BODY].status (DOWN) == UP");
	CHECK_EVAL("[BODY].data[0].id == 1", bad("{\"data\": []}"), 0,
		   "[BODY].data[0].id (INVALID) == 1");
	CHECK_EVAL(
		"[BODY].user.firstName != [BODY].user.lastName",
		bad("{\"user\": {\"firstName\": \"john\", "
		    "\"lastName\": \"john\"}}"),
		0,
		"[BODY].user.firstName (john) != [BODY].user.lastName (john)");
	CHECK_EVAL("len([BODY].items) >= 1", bad("{\"items\": []}"), 0,
		   "len([BODY].items) (0) >= 1");
	CHECK_EVAL("has([BODY].errors) == false",
		   bad("{\"errors\": [\"boom\"]}"), 0,
		   "has([BODY].errors) (true) == false");
	CHECK_EVAL("[BODY].version == pat(2.*)",
		   bad("{\"version\": \"1.9.0\"}"), 0,
		   "[BODY].version (1.9.0) == pat(2.*)");
	CHECK_EVAL("[BODY] == pat(*<h1>Example Domain</h1>*)",
		   bad("<html><h1>Other</h1></html>"), 0,
		   "[BODY] (<html><h1>Other</h1></htm...(truncated)) == "
		   "pat(*<h1>Example Domain</h1>*)");
	CHECK_EVAL("[IP] == pat(192.168.*)", bad(NULL), 0,
		   "[IP] (10.0.0.1) == pat(192.168.*)");
	CHECK_EVAL("[CONNECTED] == true", bad(NULL), 0,
		   "[CONNECTED] (false) == true");
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 336h", bad(NULL), 0,
		   "[CERTIFICATE_EXPIRATION] (24h) > 336h");
	CHECK_EVAL("[DNS_RCODE] == NOERROR", bad(NULL), 0,
		   "[DNS_RCODE] (NXDOMAIN) == NOERROR");
	CHECK_EVAL("[BODY] == pat(*.*.*.*)",
		   bad("2606:2800:21f:cb07:6820:80da:af6b:8b2c"), 0,
		   "[BODY] (2606:2800:21f:cb07:6820:8...(truncated)) == "
		   "pat(*.*.*.*)");
}

/* Cases of Gatus's own condition_test.go, rendered resolved. */
static void gatus_test_suite_cases(void)
{
	CHECK_EVAL("[BODY] == test", good("test"), 1, "[BODY] (test) == test");
	CHECK_EVAL("[BODY] < 124", good("123"), 1, "[BODY] (123) < 124");
	CHECK_EVAL("[BODY] > 123", good("100"), 0, "[BODY] (100) > 123");
	CHECK_EVAL("[BODY][0].id == 1", good("[{\"id\": 1}, {\"id\": 2}]"), 1,
		   "[BODY][0].id (1) == 1");
	CHECK_EVAL("[BODY][0].name == test",
		   good("{\"statusCode\": 500, \"message\": \"Internal\"}"), 0,
		   "[BODY][0].name (INVALID) == test");
	CHECK_EVAL("[BODY].data == OK", good("{\"data\": null}"), 0,
		   "[BODY].data (INVALID) == OK");
	CHECK_EVAL("[BODY].items[0] == OK", good("{\"items\": [null, null]}"),
		   0, "[BODY].items[0] (INVALID) == OK");
	CHECK_EVAL("[BODY].data == OK", good("null"), 0,
		   "[BODY].data (INVALID) == OK");
	CHECK_EVAL("len([BODY].data.name) == 4",
		   good("{\"data\": {\"id\": 1}}"), 0,
		   "len([BODY].data.name) (INVALID) == 4");
	CHECK_EVAL("[BODY].balance > 100",
		   good("{\"balance\": \"123.40000000000005\"}"), 1,
		   "[BODY].balance (123.40000000000005) > 100");
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 2419200000", bad(NULL), 0,
		   "[CERTIFICATE_EXPIRATION] (24h) > 2419200000");
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 12h", bad(NULL), 1,
		   "[CERTIFICATE_EXPIRATION] (24h) > 12h");
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] == 86400000", bad(NULL), 1,
		   "[CERTIFICATE_EXPIRATION] (86400000) == 86400000");
	CHECK_EVAL("[BODY].data == pat(*Whatever*)",
		   good("{\"data\": [\"hello\", \"world\", \"Whatever\"]}"), 1,
		   "[BODY].data ([\"hello\",\"world\",\"Whateve...(truncated)) "
		   "== pat(*Whatever*)");
	CHECK_EVAL("[STATUS] == pat(4*)", bad(NULL), 0,
		   "[STATUS] (500) == pat(4*)");
	CHECK_EVAL("any(200, 429) == [STATUS]", good(NULL), 1,
		   "any(200, 429) == [STATUS] (200)");
	CHECK_EVAL("[BODY].name == any(john.doe, jane.doe)",
		   good("{\"name\": \"bob\"}"), 0,
		   "[BODY].name (bob) == any(john.doe, jane.doe)");
	CHECK_EVAL("has([BODY].article) == true",
		   good("{\n  \"article\": {\"id\": 123}\n}"), 1,
		   "has([BODY].article) (true) == true");
}

/* == and != compare as int64 when both sides parse as Go integers (base
 * prefixes, a leading 0 for octal, '_' between digits), else as exact
 * text. */
static void equality_ints_and_strings(void)
{
	CHECK_EVAL("[BODY].data == 1", good("{\"data\": \"0x1\"}"), 1,
		   "[BODY].data (0x1) == 1");
	CHECK_EVAL("[BODY].data == 12648243", good("{\"data\": \"0xC0ff33\"}"),
		   1, "[BODY].data (0xC0ff33) == 12648243");
	CHECK_EVAL("[BODY].data == 0o2", good("{\"data\": 2}"), 1,
		   "[BODY].data (2) == 0o2");
	CHECK_EVAL("[BODY].data == 0b10", good("{\"data\": \"0b0010\"}"), 1,
		   "[BODY].data (0b0010) == 0b10");
	CHECK_EVAL("[BODY].data == 8", good("{\"data\": \"010\"}"), 1,
		   "[BODY].data (010) == 8");
	CHECK_EVAL("[BODY].data == 1000", good("{\"data\": \"1_000\"}"), 1,
		   "[BODY].data (1_000) == 1000");
	CHECK_EVAL("[BODY].data == -5", good("{\"data\": \"-0x5\"}"), 1,
		   "[BODY].data (-0x5) == -5");
	/* Not integers: text, exactly. */
	CHECK_EVAL("[BODY].data == 08", good("{\"data\": \"8\"}"), 0,
		   "[BODY].data (8) == 08");
	CHECK_EVAL("[BODY].data == 1__0", good("{\"data\": \"10\"}"), 0,
		   "[BODY].data (10) == 1__0");
	CHECK_EVAL("[BODY].ok == true", good("{\"ok\": true}"), 1,
		   "[BODY].ok (true) == true");
	CHECK_EVAL("[BODY].status == up", good("{\"status\": \"UP\"}"), 0,
		   "[BODY].status (UP) == up");
	CHECK_EVAL("[BODY].status != up", good("{\"status\": \"UP\"}"), 1,
		   "[BODY].status (UP) != up");
	CHECK_EVAL("[BODY].v == 1.0", good("{\"v\": \"1\"}"), 0,
		   "[BODY].v (1) == 1.0");
	/* A JSON 2.0 shows as Go shows it, so "== 2" holds. */
	CHECK_EVAL("[BODY].v == 2", good("{\"v\": 2.0}"), 1,
		   "[BODY].v (2) == 2");
	/* Go would show 1e+06 and the comparison would fail. */
	CHECK_EVAL("[BODY].n == 1000000", good("{\"n\": 1e6}"), 1,
		   "[BODY].n (1000000) == 1000000");
	CHECK_EVAL("[BODY].n == 0.1", good("{\"n\": 0.1}"), 1,
		   "[BODY].n (0.1) == 0.1");
	CHECK_EVAL("[status] == 200", good(NULL), 1, "[status] (200) == 200");
	CHECK_EVAL("[Body].Status == UP", good("{\"Status\": \"UP\"}"), 1,
		   "[Body].Status (UP) == UP");
	CHECK_EVAL("[body].status == UP", good("{\"Status\": \"UP\"}"), 0,
		   "[body].status (INVALID) == UP");
	CHECK_EVAL("  [STATUS]   ==   200  ", good(NULL), 1,
		   "[STATUS] (200) == 200");
	CHECK_EVAL("[STATUS] != 0xC8", good(NULL), 0, "[STATUS] (200) != 0xC8");
}

static void pat_and_any_on_either_side(void)
{
	CHECK_EVAL("pat(192.168.*) == [IP]", good(NULL), 1,
		   "pat(192.168.*) == [IP] (192.168.1.10)");
	CHECK_EVAL("pat(192.168.*) != [IP]", good(NULL), 0,
		   "pat(192.168.*) != [IP] (192.168.1.10)");
	CHECK_EVAL("[IP] != pat(192.168.*)", bad(NULL), 1,
		   "[IP] (10.0.0.1) != pat(192.168.*)");
	CHECK_EVAL("[STATUS] != any(500, 502, 503)", good(NULL), 1,
		   "[STATUS] (200) != any(500, 502, 503)");
	CHECK_EVAL("[STATUS] != any(500, 502, 503)", bad(NULL), 0,
		   "[STATUS] (500) != any(500, 502, 503)");
	CHECK_EVAL("any(500,502) != [STATUS]", good(NULL), 1,
		   "any(500,502) != [STATUS] (200)");
	CHECK_EVAL("[BODY].env == any( prod , staging )",
		   good("{\"env\": \"staging\"}"), 1,
		   "[BODY].env (staging) == any( prod , staging )");
	/* any() compares text: " prod" in the value is not "prod". */
	CHECK_EVAL("[BODY].env == any(prod)", good("{\"env\": \" prod\"}"), 0,
		   "[BODY].env ( prod) == any(prod)");
	/* '/' is dropped from pattern and value, as in Gatus. */
	CHECK_EVAL("[BODY].url == pat(*api/v1*)",
		   good("{\"url\": \"https://x/api/v1/health\"}"), 1,
		   "[BODY].url (https://x/api/v1/health) == pat(*api/v1*)");
	CHECK_EVAL("[BODY].url == pat(*apiv1*)", good("{\"url\": \"/api/v1\"}"),
		   1, "[BODY].url (/api/v1) == pat(*apiv1*)");
	CHECK_EVAL("[BODY].v == pat(v[0-9].?)", good("{\"v\": \"v2.x\"}"), 1,
		   "[BODY].v (v2.x) == pat(v[0-9].?)");
	CHECK_EVAL("[BODY].v == pat(v[!0-9]*)", good("{\"v\": \"v2.x\"}"), 0,
		   "[BODY].v (v2.x) == pat(v[!0-9]*)");
	CHECK_EVAL("[BODY] == pat(*)", good(""), 1, "[BODY] () == pat(*)");
	CHECK_EVAL("[BODY] == pat()", good(""), 1, "[BODY] () == pat()");
	CHECK_EVAL("[BODY].s == pat(a\\*)", good("{\"s\": \"a*\"}"), 1,
		   "[BODY].s (a*) == pat(a\\*)");
	CHECK_EVAL("[BODY].s == pat(a\\*)", good("{\"s\": \"ab\"}"), 0,
		   "[BODY].s (ab) == pat(a\\*)");
}

/* Beside a pattern a value shows 25 characters then "...(truncated)";
 * characters, not bytes; nothing is cut at exactly 25. */
static void pattern_values_truncated(void)
{
	CHECK_EVAL("[BODY] == pat(x*)", good("abcdefghijklmnopqrstuvwxy"), 0,
		   "[BODY] (abcdefghijklmnopqrstuvwxy) == pat(x*)");
	CHECK_EVAL(
		"[BODY] == pat(x*)", good("abcdefghijklmnopqrstuvwxyz"), 0,
		"[BODY] (abcdefghijklmnopqrstuvwxy...(truncated)) == pat(x*)");
	CHECK_EVAL(
		"pat(x*) == [BODY]", good("abcdefghijklmnopqrstuvwxyz"), 0,
		"pat(x*) == [BODY] (abcdefghijklmnopqrstuvwxy...(truncated))");
	CHECK_EVAL("[BODY] == pat(x*)",
		   good("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9!"),
		   0,
		   "[BODY] (\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		   "...(truncated)) == pat(x*)");
	/* Not beside any(): shown whole. */
	CHECK_EVAL("[BODY] == any(x)", good("abcdefghijklmnopqrstuvwxyz"), 0,
		   "[BODY] (abcdefghijklmnopqrstuvwxyz) == any(x)");
}

static void len_and_has(void)
{
	const char *doc = "{\"items\": [1, 2], \"name\": \"john.doe\", "
			  "\"age\": 18, \"adult\": true, \"obj\": {\"b\": 1, "
			  "\"a\": [true]}, \"nothing\": null, \"empty\": []}";

	CHECK_EVAL("len([BODY].items) == 2", good(doc), 1,
		   "len([BODY].items) (2) == 2");
	CHECK_EVAL("len([BODY].name) == 8", good(doc), 1,
		   "len([BODY].name) (8) == 8");
	CHECK_EVAL("len([BODY].age) == 2", good(doc), 1,
		   "len([BODY].age) (2) == 2");
	CHECK_EVAL("len([BODY].adult) == 4", good(doc), 1,
		   "len([BODY].adult) (4) == 4");
	/* An object: the length of its minified JSON, {"a":[true],"b":1}. */
	CHECK_EVAL("len([BODY].obj) == 18", good(doc), 1,
		   "len([BODY].obj) (18) == 18");
	CHECK_EVAL("len([BODY].empty) == 0", good(doc), 1,
		   "len([BODY].empty) (0) == 0");
	CHECK_EVAL("len([BODY].nothing) == 0", good(doc), 0,
		   "len([BODY].nothing) (INVALID) == 0");
	CHECK_EVAL("len([BODY]) == 3", good(" [{\"id\": 1}, {}, []] "), 1,
		   "len([BODY]) (3) == 3");
	CHECK_EVAL("len([BODY]) == 8", good("  john.doe\n"), 1,
		   "len([BODY]) (8) == 8");
	CHECK_EVAL("len([BODY]) == 20", good("{\"name\": \"john.doe\"}"), 1,
		   "len([BODY]) (20) == 20");
	CHECK_EVAL("len([STATUS]) == 3", good(NULL), 1,
		   "len([STATUS]) (3) == 3");
	CHECK_EVAL("len( [BODY].items ) > 1", good(doc), 1,
		   "len( [BODY].items ) (2) > 1");
	CHECK_EVAL("has([BODY].empty) == true", good(doc), 1,
		   "has([BODY].empty) (true) == true");
	CHECK_EVAL("has([BODY].nothing) == true", good(doc), 0,
		   "has([BODY].nothing) (false) == true");
	CHECK_EVAL("has([BODY].items[2]) == false", good(doc), 1,
		   "has([BODY].items[2]) (false) == false");
	CHECK_EVAL("has([BODY].name.first) == false", good(doc), 1,
		   "has([BODY].name.first) (false) == false");
	CHECK_EVAL("has([BODY]) == true", good(" \n"), 0,
		   "has([BODY]) (false) == true");
	CHECK_EVAL("has([BODY]) == true", good("x"), 1,
		   "has([BODY]) (true) == true");
	CHECK_EVAL("has([IP]) == false", good(NULL), 0,
		   "has([IP]) (true) == false");
}

/* A value that is not there is (INVALID) and fails the condition, even
 * under != and against pat(*), where Gatus would pass. */
static void invalid_values_fail(void)
{
	struct cond_values none;

	CHECK_EVAL("[BODY].data.name == john", good("{\"data\": {\"id\": 1}}"),
		   0, "[BODY].data.name (INVALID) == john");
	CHECK_EVAL("[BODY].data.name != john", good("{\"data\": {\"id\": 1}}"),
		   0, "[BODY].data.name (INVALID) != john");
	CHECK_EVAL("[BODY].data.name == pat(*)", good("{\"data\": \"x\"}"), 0,
		   "[BODY].data.name (INVALID) == pat(*)");
	CHECK_EVAL("[BODY].data != any(a, b)", good("{}"), 0,
		   "[BODY].data (INVALID) != any(a, b)");
	CHECK_EVAL("[BODY].a < 5", good("{\"a\": null}"), 0,
		   "[BODY].a (INVALID) < 5");
	CHECK_EVAL("[BODY].items[5] == 1", good("{\"items\": [1]}"), 0,
		   "[BODY].items[5] (INVALID) == 1");
	/* Gatus shows the array when the path goes on past it. */
	CHECK_EVAL("[BODY].items.name == x", good("{\"items\": [1]}"), 0,
		   "[BODY].items.name (INVALID) == x");
	/* Gatus gives back a scalar body for any path. */
	CHECK_EVAL("[BODY].x == 5", good("5"), 0, "[BODY].x (INVALID) == 5");
	/* A check without these values. */
	cond_values_init(&none);
	CHECK_EVAL("[STATUS] != 500", none, 0, "[STATUS] (INVALID) != 500");
	CHECK_EVAL("[CONNECTED] == false", none, 0,
		   "[CONNECTED] (INVALID) == false");
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] < 48h", none, 0,
		   "[CERTIFICATE_EXPIRATION] (INVALID) < 48h");
	CHECK_EVAL("[IP] != pat(10.*)", none, 0, "[IP] (INVALID) != pat(10.*)");
	CHECK_EVAL("[DNS_RCODE] != NXDOMAIN", none, 0,
		   "[DNS_RCODE] (INVALID) != NXDOMAIN");
	CHECK_EVAL("len([IP]) == 0", none, 0, "len([IP]) (INVALID) == 0");
	CHECK_EVAL("has([IP]) == false", none, 1, "has([IP]) (false) == false");
	CHECK_EVAL("has([STATUS]) == false", none, 1,
		   "has([STATUS]) (false) == false");
	CHECK_EVAL("[RESPONSE_TIME] == 0", none, 1, "[RESPONSE_TIME] (0) == 0");
	none.ip = "";
	CHECK_EVAL("[IP] == pat(*)", none, 0, "[IP] (INVALID) == pat(*)");
}

/* Durations anywhere a number goes under < <= > >=: Go's units, d and w,
 * groups; shown in ms for [RESPONSE_TIME], as a duration for
 * [CERTIFICATE_EXPIRATION]. */
static void durations(void)
{
	struct cond_values v = good(NULL);

	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 30d", bad(NULL), 0,
		   "[CERTIFICATE_EXPIRATION] (24h) > 30d");
	v.cert_expiry_ms = 31 * 86400000LL;
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 30d", v, 1,
		   "[CERTIFICATE_EXPIRATION] (744h) > 30d");
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 4w", v, 1,
		   "[CERTIFICATE_EXPIRATION] (744h) > 4w");
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 5w", v, 0,
		   "[CERTIFICATE_EXPIRATION] (744h) > 5w");
	v.cert_expiry_ms = 90 * 60000LL + 15000;
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] >= 1h30m15s", v, 1,
		   "[CERTIFICATE_EXPIRATION] (1h30m15s) >= 1h30m15s");
	v.cert_expiry_ms = 3600000LL + 15999;
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 2h", v, 0,
		   "[CERTIFICATE_EXPIRATION] (1h0m15s) > 2h");
	v.cert_expiry_ms = 140 * 60000LL;
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 3h", v, 0,
		   "[CERTIFICATE_EXPIRATION] (2h20m) > 3h");
	v.cert_expiry_ms = 10000;
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 1m", v, 0,
		   "[CERTIFICATE_EXPIRATION] (10s) > 1m");
	v.cert_expiry_ms = 999;
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 0", v, 1,
		   "[CERTIFICATE_EXPIRATION] (0s) > 0");
	v.cert_expiry_ms = -86400000LL;
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 0", v, 0,
		   "[CERTIFICATE_EXPIRATION] (-24h) > 0");
	v.cert_expiry_ms = INT64_MAX;
	CHECK_EVAL("[CERTIFICATE_EXPIRATION] > 1w", v, 1,
		   "[CERTIFICATE_EXPIRATION] (2562047788015h12m55s) > 1w");
	CHECK_EVAL("[RESPONSE_TIME] < 250ms", good(NULL), 0,
		   "[RESPONSE_TIME] (250) < 250ms");
	CHECK_EVAL("[RESPONSE_TIME] <= 250ms", good(NULL), 1,
		   "[RESPONSE_TIME] (250) <= 250ms");
	CHECK_EVAL("[RESPONSE_TIME] < 0.25s", good(NULL), 0,
		   "[RESPONSE_TIME] (250) < 0.25s");
	CHECK_EVAL("[RESPONSE_TIME] <= 250000us", good(NULL), 1,
		   "[RESPONSE_TIME] (250) <= 250000us");
	CHECK_EVAL("[RESPONSE_TIME] < 250999\xc2\xb5s", good(NULL), 0,
		   "[RESPONSE_TIME] (250) < 250999\xc2\xb5s");
	CHECK_EVAL("[RESPONSE_TIME] >= 250000000ns", good(NULL), 1,
		   "[RESPONSE_TIME] (250) >= 250000000ns");
	CHECK_EVAL("[RESPONSE_TIME] > 1m-1", good(NULL), -1,
		   "condition '[RESPONSE_TIME] > 1m-1': '1m-1' is neither a "
		   "number nor a duration (e.g. 300, 1.5, 500ms, 2h, 30d)");
	CHECK_EVAL("[RESPONSE_TIME] > -1h", good(NULL), 1,
		   "[RESPONSE_TIME] (250) > -1h");
	/* Durations in the body count too. */
	CHECK_EVAL("[BODY].uptime > 1h", good("{\"uptime\": \"1h0m1s\"}"), 1,
		   "[BODY].uptime (1h0m1s) > 1h");
	CHECK_EVAL("[BODY].uptime > 1h", good("{\"uptime\": \"2d\"}"), 1,
		   "[BODY].uptime (2d) > 1h");
}

/* Numbers under < <= > >= compare exactly (Gatus truncates floats); a
 * value that is not a number fails the condition, shown as it is. */
static void numeric_comparisons(void)
{
	CHECK_EVAL("[BODY].load < 1.5", good("{\"load\": 1.2}"), 1,
		   "[BODY].load (1.2) < 1.5");
	CHECK_EVAL("[BODY].load < 1.5", good("{\"load\": 1.5}"), 0,
		   "[BODY].load (1.5) < 1.5");
	CHECK_EVAL("[BODY].load <= 1.5", good("{\"load\": 1.5}"), 1,
		   "[BODY].load (1.5) <= 1.5");
	CHECK_EVAL("[BODY].n > 1", good("{\"n\": 1.0000001}"), 1,
		   "[BODY].n (1.0000001) > 1");
	CHECK_EVAL("[BODY].n >= 0x10", good("{\"n\": \"0b10000\"}"), 1,
		   "[BODY].n (0b10000) >= 0x10");
	CHECK_EVAL("[BODY].n > -2.5e3", good("{\"n\": -2499}"), 1,
		   "[BODY].n (-2499) > -2.5e3");
	CHECK_EVAL("[BODY].n < 1e3", good("{\"n\": \"1_000\"}"), 0,
		   "[BODY].n (1_000) < 1e3");
	CHECK_EVAL("[BODY].status > 1", good("{\"status\": \"UP\"}"), 0,
		   "[BODY].status (UP) > 1");
	CHECK_EVAL("[BODY].n < 100", good("{\"n\": \"30x\"}"), 0,
		   "[BODY].n (30x) < 100");
	CHECK_EVAL("[BODY].n < 100", good("{\"n\": \"NaN\"}"), 0,
		   "[BODY].n (NaN) < 100");
	CHECK_EVAL("[BODY].n > 0", good("{\"n\": true}"), 0,
		   "[BODY].n (true) > 0");
	CHECK_EVAL("[BODY].n > 0", good("{\"n\": [1]}"), 0,
		   "[BODY].n ([1]) > 0");
	CHECK_EVAL("len([BODY].name) > 3", good("{\"name\": \"john\"}"), 1,
		   "len([BODY].name) (4) > 3");
	CHECK_EVAL("100 > [BODY].n", good("{\"n\": 99}"), 1,
		   "100 > [BODY].n (99)");
	CHECK_EVAL("[BODY].a > [BODY].b", good("{\"a\": 2, \"b\": 1.5}"), 1,
		   "[BODY].a (2) > [BODY].b (1.5)");
}

/* Past int64: never undefined behaviour; an error in the condition, a
 * float comparison, or a failed condition. */
static void huge_numbers(void)
{
	CHECK_EVAL("[BODY].n > 1", good("{\"n\": 100000000000000000000}"), 1,
		   "[BODY].n (1e+20) > 1");
	CHECK_EVAL("[BODY].n > 9223372036854775807",
		   good("{\"n\": 100000000000000000000}"), 1,
		   "[BODY].n (1e+20) > 9223372036854775807");
	CHECK_EVAL("[BODY].n < -9223372036854775808", good("{\"n\": -1e300}"),
		   1, "[BODY].n (-1e+300) < -9223372036854775808");
	CHECK_EVAL("[BODY].n < 99999999999999999999",
		   good("{\"n\": 9223372036854775807}"), 1,
		   "[BODY].n (9223372036854775807) < 99999999999999999999");
	CHECK_EVAL("[BODY].n == 9223372036854775807",
		   good("{\"n\": 9223372036854775807}"), 1,
		   "[BODY].n (9223372036854775807) == 9223372036854775807");
	CHECK_EVAL("[BODY].n == -9223372036854775808",
		   good("{\"n\": \"-0x8000000000000000\"}"), 1,
		   "[BODY].n (-0x8000000000000000) == -9223372036854775808");
	/* Out of int64: text comparison, as in Gatus. */
	CHECK_EVAL("[BODY].n == 99999999999999999999",
		   good("{\"n\": \"99999999999999999999\"}"), 1,
		   "[BODY].n (99999999999999999999) == 99999999999999999999");
	CHECK_EVAL("[BODY].n == 9223372036854775808",
		   good("{\"n\": \"0x8000000000000000\"}"), 0,
		   "[BODY].n (0x8000000000000000) == 9223372036854775808");
	CHECK_EVAL("[BODY].n > 1", good("{\"n\": \"1e999\"}"), 0,
		   "[BODY].n (1e999) > 1");
	CHECK_EVAL("[BODY].d > 1h", good("{\"d\": \"99999999999999999999h\"}"),
		   0, "[BODY].d (99999999999999999999h) > 1h");
	CHECK_EVAL("[BODY].d > 1h", good("{\"d\": \"9223372036854775807w\"}"),
		   0, "[BODY].d (9223372036854775807w) > 1h");
	CHECK_ERR("[RESPONSE_TIME] < 99999999999999999999h",
		  "condition '[RESPONSE_TIME] < 99999999999999999999h': "
		  "'99999999999999999999h' is too large");
	CHECK_ERR("[RESPONSE_TIME] < 1e999",
		  "condition '[RESPONSE_TIME] < 1e999': '1e999' is too large");
	CHECK_ERR("[RESPONSE_TIME] < 9223372036854775807ms1ms",
		  "condition '[RESPONSE_TIME] < 9223372036854775807ms1ms': "
		  "'9223372036854775807ms1ms' is too large");
	CHECK_ERR("[STATUS] == 99999999999999999999",
		  "condition '[STATUS] == 99999999999999999999': '[STATUS]' is "
		  "a number, so it can never equal '99999999999999999999'");
}

/* The body: trimmed, not JSON, empty, absent, with NUL bytes, and never
 * read past body_len. */
static void bodies(void)
{
	struct cond_values v = good(NULL);
	static const char buf[] = "{\"a\": \"x\"}{\"b\": 1}";
	static const char nul[] = "ab\0cd\001\tz";

	CHECK_EVAL("[BODY].a == x", good("<html>not json</html>"), 0,
		   "[BODY].a (INVALID) == x");
	CHECK_EVAL("[BODY][0] == x", good("[\"x\""), 0,
		   "[BODY][0] (INVALID) == x");
	CHECK_EVAL("[BODY] == ok", good("\n\t ok \r\n"), 1,
		   "[BODY] (ok) == ok");
	CHECK_EVAL("[BODY] != ok", good(""), 1, "[BODY] () != ok");
	CHECK_EVAL("[BODY].a == x", good(""), 0, "[BODY].a (INVALID) == x");
	CHECK_EVAL("len([BODY]) == 0", good(NULL), 1, "len([BODY]) (0) == 0");
	CHECK_EVAL("[BODY].a == x", good(NULL), 0, "[BODY].a (INVALID) == x");
	/* Only the first 10 bytes are the body; the rest is not JSON. */
	v.body = buf;
	v.body_len = 10;
	CHECK_EVAL("[BODY].a == x", v, 1, "[BODY].a (x) == x");
	CHECK_EVAL("len([BODY]) == 10", v, 1, "len([BODY]) (10) == 10");
	v.body_len = sizeof(buf) - 1;
	CHECK_EVAL("[BODY].a == x", v, 0, "[BODY].a (INVALID) == x");
	/* NUL and control bytes: compared as they are, shown as '?'. */
	v.body = nul;
	v.body_len = sizeof(nul) - 1;
	CHECK_EVAL("len([BODY]) == 8", v, 1, "len([BODY]) (8) == 8");
	CHECK_EVAL("[BODY] == ab", v, 0, "[BODY] (ab?cd? z) == ab");
	CHECK_EVAL("[BODY] == pat(ab*)", v, 0, "[BODY] (ab?cd? z) == pat(ab*)");
	CHECK_EVAL("[BODY] == pat(*)", v, 1, "[BODY] (ab?cd? z) == pat(*)");
	CHECK_EVAL("[BODY].s == ab", good("{\"s\": \"ab\\u0000\"}"), 0,
		   "[BODY].s (\"ab\\u0000\") == ab");
	CHECK_EVAL("[BODY].s == x", good("{\"s\": \"a\\u001b[31mb\\nc\"}"), 0,
		   "[BODY].s (a?[31mb c) == x");
}

/* Each of Gatus's silent mistakes is an error that names the condition
 * and what is wrong. */
static void strict_errors(void)
{
	CHECK_ERR("", "empty condition");
	CHECK_ERR(" \t", "empty condition");
	CHECK_ERR("[STATUS]==200",
		  "condition '[STATUS]==200': no operator (==, !=, <, <=, > "
		  "or >=, with a space on each side)");
	CHECK_ERR("[STATUS] =< 200",
		  "condition '[STATUS] =< 200': no operator (==, !=, <, <=, > "
		  "or >=, with a space on each side)");
	CHECK_ERR("[STATUS] == ",
		  "condition '[STATUS] == ': nothing right of '=='");
	CHECK_ERR(" == 200", "condition ' == 200': nothing left of '=='");
	CHECK_ERR("[STATUS] == 200 == 300",
		  "condition '[STATUS] == 200 == 300': a second operator '==' "
		  "in '200 == 300'");
	CHECK_ERR("[RESPONSE_TIME] < 300 > 100",
		  "condition '[RESPONSE_TIME] < 300 > 100': a second operator "
		  "'<' in '[RESPONSE_TIME] < 300'");
	CHECK_ERR("[STATUS] == == 200",
		  "condition '[STATUS] == == 200': a second operator '==' in "
		  "'== 200'");
	CHECK_ERR("[STATUS] >= 200 !",
		  "condition '[STATUS] >= 200 !': '200 !' is neither a number "
		  "nor a duration (e.g. 300, 1.5, 500ms, 2h, 30d)");
	CHECK_ERR("[STATSU] == 200",
		  "condition '[STATSU] == 200': unknown placeholder '[STATSU]' "
		  "(use [STATUS], [RESPONSE_TIME], [BODY], [IP], [CONNECTED], "
		  "[CERTIFICATE_EXPIRATION] or [DNS_RCODE])");
	CHECK_ERR("[BODY].status == [UP]",
		  "condition '[BODY].status == [UP]': unknown placeholder "
		  "'[UP]' (use [STATUS], [RESPONSE_TIME], [BODY], [IP], "
		  "[CONNECTED], [CERTIFICATE_EXPIRATION] or [DNS_RCODE])");
	CHECK_ERR("[DOMAIN_EXPIRATION] > 720h",
		  "condition '[DOMAIN_EXPIRATION] > 720h': placeholder "
		  "'[DOMAIN_EXPIRATION]' is not supported");
	CHECK_ERR("[CONTEXT].token == x",
		  "condition '[CONTEXT].token == x': placeholder '[CONTEXT]' "
		  "is not supported");
	CHECK_ERR("[BODY].data..name == x",
		  "condition '[BODY].data..name == x': malformed path: "
		  "'data..name': empty segment before '.' at character 6");
	CHECK_ERR("[BODY].items[x] == 1",
		  "condition '[BODY].items[x] == 1': malformed path: "
		  "'items[x]': expected an index or a quoted key after '[' at "
		  "character 7");
	CHECK_ERR("[BODY].items[-1] == 1",
		  "condition '[BODY].items[-1] == 1': malformed path: "
		  "'items[-1]': expected an index or a quoted key after '[' at "
		  "character 7");
	CHECK_ERR("[BODY]x == 1", "condition '[BODY]x == 1': '[BODY]x': "
				  "expected '.' or '[' after '[BODY]'");
	CHECK_ERR("[BODY]. == 1",
		  "condition '[BODY]. == 1': '[BODY].': nothing after the '.'");
	CHECK_ERR("[STATUS].code == 200",
		  "condition '[STATUS].code == 200': '[STATUS].code': only "
		  "[BODY] takes a path after it");
	CHECK_ERR(
		"len(200) == 3",
		"condition 'len(200) == 3': len() takes a placeholder such as "
		"[BODY].items, not '200'");
	CHECK_ERR(
		"has() == true",
		"condition 'has() == true': has() takes a placeholder such as "
		"[BODY].items, not ''");
	CHECK_ERR(
		"len(has([BODY])) == 1",
		"condition 'len(has([BODY])) == 1': len() takes a placeholder "
		"such as [BODY].items, not 'has([BODY])'");
	CHECK_ERR("LEN([BODY]) == 1",
		  "condition 'LEN([BODY]) == 1': unknown function 'LEN()': "
		  "function names are lower case (len, has, pat, any)");
	CHECK_ERR("len([BODY]) x == 1",
		  "condition 'len([BODY]) x == 1': text after the closing ')' "
		  "in 'len([BODY]) x'");
	CHECK_ERR("[STATUS] < pat(3*)",
		  "condition '[STATUS] < pat(3*)': pat() only works with == "
		  "and !=");
	CHECK_ERR("any(1, 2) >= [STATUS]",
		  "condition 'any(1, 2) >= [STATUS]': any() only works with == "
		  "and !=");
	CHECK_ERR(
		"len([BODY].items >= 1",
		"condition 'len([BODY].items >= 1': unbalanced parentheses in "
		"'len([BODY].items'");
	CHECK_ERR("[BODY].status) == UP",
		  "condition '[BODY].status) == UP': unbalanced parentheses in "
		  "'[BODY].status)'");
	CHECK_ERR("[BODY.status == UP",
		  "condition '[BODY.status == UP': unbalanced brackets in "
		  "'[BODY.status'");
	CHECK_ERR("[BODY] == pat(*[a-z*)",
		  "condition '[BODY] == pat(*[a-z*)': unbalanced brackets in "
		  "'pat(*[a-z*)'");
	CHECK_ERR("[STATUS] == any()",
		  "condition '[STATUS] == any()': empty any()");
	CHECK_ERR("[STATUS] == any( )",
		  "condition '[STATUS] == any( )': empty any()");
	CHECK_ERR("[STATUS] == any(200,,204)",
		  "condition '[STATUS] == any(200,,204)': empty option in "
		  "'any(200,,204)'");
	CHECK_ERR("[STATUS] == any(200, )",
		  "condition '[STATUS] == any(200, )': empty option in "
		  "'any(200, )'");
	CHECK_ERR(
		"[CERTIFICATE_EXPIRATION] > 30x",
		"condition '[CERTIFICATE_EXPIRATION] > 30x': '30x' is neither "
		"a number nor a duration (e.g. 300, 1.5, 500ms, 2h, 30d)");
	CHECK_ERR("[RESPONSE_TIME] < fast",
		  "condition '[RESPONSE_TIME] < fast': 'fast' is neither a "
		  "number nor a duration (e.g. 300, 1.5, 500ms, 2h, 30d)");
	CHECK_ERR("[RESPONSE_TIME] < 5 s",
		  "condition '[RESPONSE_TIME] < 5 s': '5 s' is neither a "
		  "number nor a duration (e.g. 300, 1.5, 500ms, 2h, 30d)");
	CHECK_ERR("[RESPONSE_TIME] < 1H",
		  "condition '[RESPONSE_TIME] < 1H': '1H' is neither a number "
		  "nor a duration (e.g. 300, 1.5, 500ms, 2h, 30d)");
	CHECK_ERR(
		"[RESPONSE_TIME] < inf",
		"condition '[RESPONSE_TIME] < inf': 'inf' is neither a number "
		"nor a duration (e.g. 300, 1.5, 500ms, 2h, 30d)");
	CHECK_ERR("1 == 2", "condition '1 == 2': no placeholder on either "
			    "side (such as [STATUS] or [BODY].status)");
	CHECK_ERR("STATUS != 500",
		  "condition 'STATUS != 500': no placeholder on either side "
		  "(such as [STATUS] or [BODY].status)");
	CHECK_ERR("pat(a*) == any(b)",
		  "condition 'pat(a*) == any(b)': pat() or any() on both "
		  "sides: one side must be a placeholder");
	CHECK_ERR("[STATUS] == OK", "condition '[STATUS] == OK': '[STATUS]' "
				    "is a number, so it can never equal 'OK'");
	CHECK_ERR("[RESPONSE_TIME] == 1s",
		  "condition '[RESPONSE_TIME] == 1s': '[RESPONSE_TIME]' is a "
		  "number, so it can never equal '1s'");
	CHECK_ERR("len([BODY].items) != some",
		  "condition 'len([BODY].items) != some': 'len([BODY].items)' "
		  "is a number, so it can never equal 'some'");
	CHECK_ERR("[STATUS] == any(200, 0xC8)",
		  "condition '[STATUS] == any(200, 0xC8)': '[STATUS]' is a "
		  "number, so it can never equal '0xC8'");
	CHECK_ERR("[CONNECTED] == yes",
		  "condition '[CONNECTED] == yes': '[CONNECTED]' is true or "
		  "false, so it can never equal 'yes'");
	CHECK_ERR(
		"has([BODY].errors) != False",
		"condition 'has([BODY].errors) != False': 'has([BODY].errors)' "
		"is true or false, so it can never equal 'False'");
	CHECK_ERR("[DNS_RCODE] != NXDOMIAN",
		  "condition '[DNS_RCODE] != NXDOMIAN': '[DNS_RCODE]' is a DNS "
		  "response code, so it can never equal 'NXDOMIAN'");
	CHECK_ERR("[DNS_RCODE] == any(NOERROR, noerror)",
		  "condition '[DNS_RCODE] == any(NOERROR, noerror)': "
		  "'[DNS_RCODE]' is a DNS response code, so it can never equal "
		  "'noerror'");
	CHECK_ERR(
		"[CONNECTED] > 0",
		"condition '[CONNECTED] > 0': '[CONNECTED]' is true or false, "
		"not a number: compare it with == or !=");
	CHECK_ERR("[IP] > 10", "condition '[IP] > 10': '[IP]' is an address, "
			       "not a number: compare it with == or !=");
	CHECK_ERR("has([BODY].x) < 1",
		  "condition 'has([BODY].x) < 1': 'has([BODY].x)' is true or "
		  "false, not a number: compare it with == or !=");
	CHECK_ERR("[DNS_RCODE] >= 1",
		  "condition '[DNS_RCODE] >= 1': '[DNS_RCODE]' is a DNS "
		  "response code, not a number: compare it with == or !=");
	CHECK_ERR("[BODY] == pat(abc\\)",
		  "condition '[BODY] == pat(abc\\)': 'pat(abc\\)': the pattern "
		  "ends with '\\'");
	/* Literals that only look like placeholders or functions parse. */
	CHECK_ERR("[BODY].items == []", "(parsed)");
	CHECK_ERR("[BODY].items == [1,2]", "(parsed)");
	CHECK_ERR("[BODY].items == [true]", "(parsed)");
	CHECK_ERR("[BODY].fn == f(x)", "(parsed)");
	CHECK_ERR("[BODY] == pat(*(a)*)", "(parsed)");
	CHECK_ERR("[BODY] == pat(a\\\\)", "(parsed)");
	CHECK_ERR("[BODY].status == UP ", "(parsed)");
	CHECK_ERR("[STATUS] == 0x1F", "(parsed)");
	CHECK_ERR("[CONNECTED] == any(true, false)", "(parsed)");
	CHECK_ERR("[BODY][\"a.b\"] == 1", "(parsed)");
}

static void bounds(void)
{
	char text[COND_MAX_LEN + 2], msg[300];
	size_t n;

	/* [BODY] == x…x, exactly COND_MAX_LEN bytes, then one more. */
	n = (size_t)snprintf(text, sizeof(text), "[BODY] == ");
	memset(text + n, 'x', COND_MAX_LEN - n);
	text[COND_MAX_LEN] = '\0';
	CHECK_ERR(text, "(parsed)");
	text[COND_MAX_LEN] = 'x';
	text[COND_MAX_LEN + 1] = '\0';
	snprintf(msg, sizeof(msg), "condition '%.200s': longer than 4096 bytes",
		 text);
	CHECK_ERR(text, msg);
	/* any() with 64 options, then 65. */
	n = (size_t)snprintf(text, sizeof(text), "[BODY] == any(");
	for (int i = 0; i < COND_MAX_ANY; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%d",
				      i ? "," : "", i);
	snprintf(text + n, sizeof(text) - n, ")");
	CHECK_ERR(text, "(parsed)");
	CHECK_EVAL(
		text, good("63"), 1,
		"[BODY] (63) == any(0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63)");
	snprintf(text + n, sizeof(text) - n, ",64)");
	CHECK_ERR(
		text,
		"condition '[BODY] == any(0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64)': more than 64 options in any()");
}

/* The rendering fits any buffer, always NUL-terminated; the result does
 * not depend on it. */
static void output_buffer(void)
{
	struct sd_err err = {0};
	struct cond *c = cond_parse("[STATUS] == 200", &err);
	struct cond_values v = bad(NULL);
	char small[8] = "XXXXXXX";

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_INT(cond_eval(c, &v, small, sizeof(small)), 0);
	CHECK_STR(small, "[STATUS");
	CHECK_INT(cond_eval(c, &v, small, 1), 0);
	CHECK_STR(small, "");
	small[0] = 'X';
	CHECK_INT(cond_eval(c, &v, small, 0), 0);
	CHECK_INT(small[0], 'X');
	CHECK_INT(cond_eval(c, &v, NULL, 100), 0);
	v.status = 200;
	CHECK_INT(cond_eval(c, &v, NULL, 0), 1);
	CHECK_INT(cond_eval(NULL, &v, small, sizeof(small)), 0);
	CHECK_STR(small, "");
	CHECK_INT(cond_eval(c, NULL, small, sizeof(small)), 0);
	cond_free(c);
	cond_free(NULL);
	CHECK_STR(cond_text(NULL), "");
}

/* cond_text as written, cond_uses, and one parse of the body for all the
 * conditions of a check. */
static void text_uses_and_body_cache(void)
{
	struct sd_err err = {0};
	struct cond *a =
		cond_parse("  len([BODY].items) > [RESPONSE_TIME] ", &err);
	struct cond *b = cond_parse("[ip] != pat(10.*)", &err);
	struct cond_values v = good("{\"items\": [1, 2, 3]}");
	json_t *first;

	CHECK(a && b);
	if (!a || !b)
		return;
	CHECK_STR(cond_text(a), "  len([BODY].items) > [RESPONSE_TIME] ");
	CHECK_INT(cond_uses(a), COND_USES_BODY | COND_USES_RESPONSE_TIME);
	CHECK_INT(cond_uses(b), COND_USES_IP);
	CHECK(!v.json_tried);
	v.response_time_ms = 2;
	CHECK_INT(cond_eval(a, &v, out, sizeof(out)), 1);
	CHECK(v.json_tried && v.json);
	first = v.json;
	CHECK_INT(cond_eval(a, &v, out, sizeof(out)), 1);
	CHECK(v.json == first);
	CHECK_INT(cond_eval(b, &v, out, sizeof(out)), 1);
	CHECK(v.json == first);
	cond_values_release(&v);
	CHECK(!v.json && !v.json_tried);
	v.body = "{\"items\": []}";
	v.body_len = strlen(v.body);
	CHECK_INT(cond_eval(a, &v, out, sizeof(out)), 0);
	CHECK_STR(out, "len([BODY].items) (0) > [RESPONSE_TIME] (2)");
	cond_values_release(&v);
	cond_values_release(NULL);
	cond_free(a);
	cond_free(b);
}

int main(void)
{
	RUN(gatus_examples_hold, "cond: probe.md 2.7 examples hold");
	RUN(gatus_examples_fail, "cond: probe.md 2.7 examples fail, resolved");
	RUN(gatus_test_suite_cases, "cond: cases of Gatus's condition_test");
	RUN(equality_ints_and_strings,
	    "cond: == compares Go integers, else exact text");
	RUN(pat_and_any_on_either_side, "cond: pat() and any() on either side");
	RUN(pattern_values_truncated,
	    "cond: values beside pat() cut at 25 characters");
	RUN(len_and_has, "cond: len() and has()");
	RUN(invalid_values_fail, "cond: (INVALID) fails, even under !=");
	RUN(durations, "cond: durations with d, w, ms, us, ns");
	RUN(numeric_comparisons, "cond: < <= > >= compare numbers exactly");
	RUN(huge_numbers, "cond: numbers past int64");
	RUN(bodies, "cond: bodies not JSON, empty, with NUL, bounded");
	RUN(strict_errors, "cond: malformed conditions are errors");
	RUN(bounds, "cond: 4 KiB and 64 options");
	RUN(output_buffer, "cond: rendering into any buffer");
	RUN(text_uses_and_body_cache,
	    "cond: text, uses, body parsed once per check");
	UNIT_DONE();
}
