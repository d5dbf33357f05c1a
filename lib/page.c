/* The status page; see page.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "markup.h"
#include "page.h"
#include "units.h"

/* A Statuspage id: lower-case letters, digits and '-'. */
static void slug(const char *key, char *buf, size_t n)
{
	size_t j = 0;

	for (const char *p = key; *p && j + 1 < n; p++) {
		char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		buf[j++] = c;
	}
	buf[j] = '\0';
}

enum level { OPERATIONAL, DEGRADED, PARTIAL, MAJOR };

const char *const PAGE_STATUS[4] = {"operational", "degraded_performance",
				    "partial_outage", "major_outage"};
const char *const PAGE_INDICATOR[4] = {"none", "minor", "major", "critical"};
const char *const PAGE_DESCRIPTION[4] = {
	"All Systems Operational", "Partially Degraded Service",
	"Partial System Outage", "Major Service Outage"};
static const char *const LABELS[] = {"Operational", "Degraded performance",
				     "Partial outage", "Major outage"};

/* A component's level: down with an open incident is a major outage;
 * down for fewer checks than open one, degraded; not checked yet, a
 * partial outage (unknown is not operational). */
static enum level component_level(json_t *c, json_t *incidents)
{
	const char *state = json_string_value(json_object_get(c, "state"));
	const char *key = json_string_value(json_object_get(c, "key"));
	size_t i;
	json_t *inc;

	if (!state || !strcmp(state, "unknown"))
		return PARTIAL;
	if (!strcmp(state, "up"))
		return OPERATIONAL;
	json_array_foreach(
		incidents, i,
		inc) if (json_is_null(json_object_get(inc, "resolved_ms")) &&
			 !strcmp(json_string_value(json_object_get(inc, "key")),
				 key)) return MAJOR;
	return DEGRADED;
}

static const char *component_name(json_t *c)
{
	return json_string_value(json_object_get(c, "name"));
}

json_t *page_document(json_t *page, int worst, json_t *components,
		      json_t *incidents, json_t *x)
{
	json_t *doc = json_object();

	json_object_set_new(doc, "page", page);
	json_object_set_new(doc, "status",
			    json_pack("{s:s, s:s}", "indicator",
				      PAGE_INDICATOR[worst], "description",
				      PAGE_DESCRIPTION[worst]));
	json_object_set_new(doc, "components", components);
	json_object_set_new(doc, "incidents", incidents);
	json_object_set_new(doc, "scheduled_maintenances", json_array());
	json_object_set_new(doc, "x_safedeploy", x);
	return doc;
}

json_t *page_summary(const struct page_info *info, json_t *data,
		     int64_t generated_ms)
{
	const char *page_id = info->id ? info->id : "status";
	json_t *incidents = json_object_get(data, "incidents");
	json_t *page, *comps = json_array(), *open = json_array(),
		      *x = json_object(), *xcomps = json_object();
	enum level worst = OPERATIONAL;
	char now[32], when[32], id[300];
	size_t i;
	json_t *c, *inc;

	units_format_utc(generated_ms, now, sizeof(now));
	page = json_pack("{s:s, s:s, s:o, s:s, s:s}", "id", page_id, "name",
			 info->name ? info->name : "Status", "url",
			 info->url ? json_string(info->url) : json_null(),
			 "time_zone", "Etc/UTC", "updated_at", now);
	json_array_foreach(json_object_get(data, "components"), i, c)
	{
		enum level lv = component_level(c, incidents);
		json_int_t since =
			json_integer_value(json_object_get(c, "since_ms"));

		if (lv > worst)
			worst = lv;
		slug(json_string_value(json_object_get(c, "key")), id,
		     sizeof(id));
		units_format_utc(since ? since : generated_ms, when,
				 sizeof(when));
		json_array_append_new(
			comps,
			json_pack("{s:s, s:s, s:s, s:o, s:I, s:s, s:s, s:b, "
				  "s:n, s:n, s:s, s:b, s:b}",
				  "id", id, "name", component_name(c), "status",
				  PAGE_STATUS[lv], "description",
				  json_incref(json_object_get(c, "group")),
				  "position", (json_int_t)i + 1, "created_at",
				  when, "updated_at", when, "showcase", 1,
				  "start_date", "group_id", "page_id", page_id,
				  "group", 0, "only_show_if_degraded", 0));
		json_object_set_new(
			xcomps, id,
			json_pack("{s:O, s:O, s:O}", "uptime",
				  json_object_get(c, "uptime"), "last",
				  json_object_get(c, "last"), "state",
				  json_object_get(c, "state")));
	}
	json_array_foreach(incidents, i, inc)
	{
		const char *key =
			json_string_value(json_object_get(inc, "key"));
		char iid[64], cid[300], opened[32];
		const char *name = key;
		size_t k;

		if (!json_is_null(json_object_get(inc, "resolved_ms")))
			continue;
		json_array_foreach(
			json_object_get(data, "components"), k,
			c) if (!strcmp(json_string_value(json_object_get(c,
									 "key")),
				       key)) name = component_name(c);
		snprintf(iid, sizeof(iid), "inc-%lld",
			 (long long)json_integer_value(
				 json_object_get(inc, "id")));
		slug(key, cid, sizeof(cid));
		units_format_utc(
			json_integer_value(json_object_get(inc, "opened_ms")),
			opened, sizeof(opened));
		json_array_append_new(
			open,
			json_pack(
				"{s:s, s:s+, s:s, s:s, s:s, s:s, s:n, s:n, "
				"s:o, s:s, s:[{s:s+, s:s, s:s, s:O, s:s, s:s, "
				"s:s}], s:[{s:s, s:s, s:s}]}",
				"id", iid, "name", name, " is down", "status",
				"investigating", "impact", "critical",
				"created_at", opened, "updated_at", opened,
				"monitoring_at", "resolved_at", "shortlink",
				info->url
					? json_sprintf("%s#%s", info->url, iid)
					: json_null(),
				"page_id", page_id, "incident_updates", "id",
				iid, "-1", "incident_id", iid, "status",
				"investigating", "body",
				json_object_get(inc, "reason"), "created_at",
				opened, "updated_at", opened, "display_at",
				opened, "components", "id", cid, "name", name,
				"status", PAGE_STATUS[MAJOR]));
	}
	json_object_set_new(x, "generated_at", json_string(now));
	json_object_set_new(x, "interval_seconds",
			    json_integer(info->interval_s));
	json_object_set_new(x, "stale_after_seconds",
			    json_integer(info->stale_after_s
						 ? info->stale_after_s
						 : 3 * info->interval_s));
	json_object_set_new(x, "probe",
			    info->probe ? json_string(info->probe)
					: json_null());
	json_object_set_new(x, "components", xcomps);
	return page_document(page, worst, comps, open, x);
}

/* The daily bars: one span per day, its date and uptime in the title. */
static void day_bars(FILE *f, json_t *days)
{
	json_t *checks = json_object_get(days, "checks"),
	       *up = json_object_get(days, "up");
	struct tm tm = {0};
	time_t first;

	if (!strptime(
		    json_string_value(json_object_get(days, "first"))
			    ? json_string_value(json_object_get(days, "first"))
			    : "",
		    "%Y-%m-%d", &tm))
		return;
	first = timegm(&tm);
	for (size_t k = 0; k < json_array_size(checks); k++) {
		json_int_t n = json_integer_value(json_array_get(checks, k)),
			   ok = json_integer_value(json_array_get(up, k));
		time_t t = first + (time_t)k * 86400;
		char date[16];

		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		if (!n) {
			fprintf(f,
				"<span class=\"bar\" title=\"%s: no "
				"data\"></span>",
				date);
			continue;
		}
		fprintf(f,
			"<span class=\"bar %s\" title=\"%s: %.2f%% of %lld "
			"checks\"></span>",
			ok == n		     ? "ok"
			: ok * 100 >= n * 95 ? "some"
					     : "bad",
			date, 100.0 * (double)ok / (double)n, (long long)n);
	}
}

static void pct(FILE *f, json_t *v)
{
	if (json_is_number(v))
		fprintf(f, "%.2f%%", json_number_value(v) * 100);
	else
		fputs("&ndash;", f);
}

static const char CSS[] =
	"body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:"
	"52rem;padding:1rem;color:#1b1f24;background:#fff}"
	"h1{font-size:1.6rem;margin:.2rem 0}"
	".overall{padding:.8rem 1rem;border-radius:6px;color:#fff;"
	"font-weight:600}"
	".none{background:#1a7f37}.minor{background:#9a6700}"
	".major{background:#bc4c00}.critical{background:#cf222e}"
	"#generated{color:#57606a;font-size:.9rem}"
	".stale{background:#cf222e;color:#fff;padding:1rem;border-radius:6px;"
	"font-weight:700;font-size:1.1rem}"
	".component{border:1px solid #d0d7de;border-radius:6px;padding:.7rem "
	"1rem;margin:.6rem 0}"
	".row{display:flex;justify-content:space-between;gap:1rem}"
	".name{font-weight:600}"
	".operational{color:#1a7f37}.degraded_performance{color:#9a6700}"
	".partial_outage{color:#bc4c00}.major_outage{color:#cf222e}"
	".bars{display:flex;gap:2px;margin:.5rem 0 .2rem;height:2rem}"
	".bar{flex:1;border-radius:2px;background:#d0d7de}"
	".bar.ok{background:#2da44e}.bar.some{background:#d4a72c}"
	".bar.bad{background:#cf222e}"
	".uptime{color:#57606a;font-size:.85rem}"
	".incident{border-left:4px solid #cf222e;padding:.4rem .8rem;"
	"margin:.6rem 0;background:#fff5f5}"
	"code{font-size:.85rem;word-break:break-word}";

/* The script: re-fetch summary.json every minute; past stale_after, the
 * STALE banner; a newer summary reloads the page. */
static const char JS[] =
	"(function(){var b=document.body,gen=b.getAttribute('data-generated-"
	"at'),limit=1000*+b.getAttribute('data-stale-after'),first=Date.parse("
	"gen);"
	"function ago(ms){var m=Math.round(ms/60000);if(m<120)return m+' min';"
	"var h=Math.round(m/60);return h<48?h+' h':Math.round(h/24)+' days';}"
	"function check(at){var age=Date.now()-Date.parse(at),s=document."
	"getElementById('stale');if(age>limit){s.hidden=false;document."
	"getElementById('age').textContent=ago(age);}else{s.hidden=true;}}"
	"function poll(){check(gen);if(!window.fetch)return;fetch('summary."
	"json?t='+Date.now(),{cache:'no-store'}).then(function(r){return r."
	"json();}).then(function(s){var at=s&&s.page&&s.page.updated_at;if("
	"!at)return;if(Date.parse(at)>first){location.reload();return;}gen="
	"at;check(gen);}).catch(function(){});}"
	"poll();setInterval(poll,60000);})();";

char *page_html(const struct page_info *info, json_t *summary, json_t *data)
{
	json_t *page = json_object_get(summary, "page"),
	       *status = json_object_get(summary, "status");
	json_t *x = json_object_get(summary, "x_safedeploy");
	char *out = NULL;
	size_t len = 0, i;
	json_t *c, *inc;
	FILE *f = open_memstream(&out, &len);
	const char *updated =
		json_string_value(json_object_get(page, "updated_at"));

	if (!f)
		return NULL;
	fputs("<!doctype html>\n<html lang=\"en\"><head><meta "
	      "charset=\"utf-8\"><meta name=\"viewport\" "
	      "content=\"width=device-width,initial-scale=1\"><title>",
	      f);
	markup_escape(f, json_string_value(json_object_get(page, "name")));
	fprintf(f, "</title><style>%s</style></head>\n", CSS);
	fprintf(f, "<body data-generated-at=\"");
	markup_escape(f, updated);
	fprintf(f, "\" data-stale-after=\"%lld\">\n<header><h1>",
		(long long)json_integer_value(
			json_object_get(x, "stale_after_seconds")));
	markup_escape(f, json_string_value(json_object_get(page, "name")));
	fputs("</h1>\n<p id=\"generated\">Generated <time datetime=\"", f);
	markup_escape(f, updated);
	fputs("\">", f);
	markup_escape(f, updated);
	fputs("</time>", f);
	if (info->probe) {
		fputs(" by the probe on ", f);
		markup_escape(f, info->probe);
	}
	fprintf(f,
		"; checked every %llds. If this time is old, the probe has "
		"stopped and the status below is unknown.</p>\n",
		(long long)info->interval_s);
	fputs("<div id=\"stale\" class=\"stale\" hidden>Status data is STALE: "
	      "the probe last reported <span id=\"age\"></span> ago; current "
	      "status unknown.</div>\n",
	      f);
	fputs("<p class=\"overall ", f);
	markup_escape(f,
		      json_string_value(json_object_get(status, "indicator")));
	fputs("\">", f);
	markup_escape(
		f, json_string_value(json_object_get(status, "description")));
	fputs("</p></header>\n<main>\n", f);
	json_array_foreach(json_object_get(summary, "incidents"), i, inc)
	{
		json_t *u = json_array_get(
			json_object_get(inc, "incident_updates"), 0);

		fputs("<section class=\"incident\" id=\"", f);
		markup_escape(f, json_string_value(json_object_get(inc, "id")));
		fputs("\"><strong>", f);
		markup_escape(f,
			      json_string_value(json_object_get(inc, "name")));
		fputs("</strong> since ", f);
		markup_escape(f, json_string_value(
					 json_object_get(inc, "created_at")));
		fputs("<br><code>", f);
		markup_escape(f, json_string_value(json_object_get(u, "body")));
		fputs("</code></section>\n", f);
	}
	json_array_foreach(json_object_get(data, "components"), i, c)
	{
		json_t *sc = json_array_get(
			json_object_get(summary, "components"), i);
		json_t *up = json_object_get(c, "uptime");
		const char *st =
			json_string_value(json_object_get(sc, "status"));
		int lv = 0;

		for (int l = 0; l < 4; l++)
			if (!strcmp(st, PAGE_STATUS[l]))
				lv = l;
		fputs("<section class=\"component\"><div class=\"row\"><span "
		      "class=\"name\">",
		      f);
		if (json_is_string(json_object_get(c, "group"))) {
			markup_escape(f, json_string_value(
						 json_object_get(c, "group")));
			fputs(" / ", f);
		}
		markup_escape(f, component_name(c));
		fprintf(f, "</span><span class=\"%s\">%s</span></div>\n",
			PAGE_STATUS[lv], LABELS[lv]);
		fputs("<div class=\"bars\">", f);
		day_bars(f, json_object_get(c, "days"));
		fputs("</div><div class=\"uptime\">Uptime 24h ", f);
		pct(f, json_object_get(up, "24h"));
		fputs(" &middot; 7 days ", f);
		pct(f, json_object_get(up, "7d"));
		fputs(" &middot; 30 days ", f);
		pct(f, json_object_get(up, "30d"));
		fputs("</div></section>\n", f);
	}
	fprintf(f, "</main>\n<script>%s</script>\n</body></html>\n", JS);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The page's files are replaced together: all three are written to
 * temporary files first, and renamed into place only when all are
 * written. One after the other, a disk that filled up half way left a new
 * history.json and summary.json beside the old index.html
 * (tests/faults.bats); a full disk now leaves the old page as it was. */
int page_write_files(const char *dir, const struct page_info *info,
		     json_t *summary, json_t *data, json_t *history,
		     struct sd_err *err)
{
	/* history.json and summary.json first: the page that the new
	 * summary reloads finds them in place. */
	static const char *const names[3] = {"history.json", "summary.json",
					     "index.html"};
	char *text[3] = {NULL, NULL, NULL}, path[3][4200], tmp[3][4200];
	size_t first = history ? 0 : 1, written, done;
	bool ok;

	if (fs_mkdirs(dir, 0755, err) < 0)
		return -1;
	if (history)
		text[0] =
			json_dumps(history, JSON_COMPACT | JSON_PRESERVE_ORDER);
	text[1] = json_dumps(summary, JSON_COMPACT | JSON_PRESERVE_ORDER);
	text[2] = page_html(info, summary, data);
	for (written = first; written < 3; written++) {
		size_t i = written;

		if (!text[i]) {
			err_set(err, SD_EXIT_CANNOT, "out of memory");
			break;
		}
		snprintf(path[i], sizeof(path[i]), "%s/%s", dir, names[i]);
		if (fs_write_tmp(path[i], text[i], strlen(text[i]), 0644,
				 tmp[i], sizeof(tmp[i]), err) < 0)
			break;
	}
	ok = written == 3;
	for (done = first; ok && done < 3; done++)
		ok = fs_commit_tmp(tmp[done], path[done], err) == 0;
	/* What was written and not renamed (a step that failed removed its
	 * own temporary file). */
	for (size_t i = done; i < written; i++)
		unlink(tmp[i]);
	for (size_t i = 0; i < 3; i++)
		free(text[i]);
	return ok ? 0 : -1;
}

int page_write(const char *dir, const struct page_info *info, json_t *data,
	       int64_t generated_ms, struct sd_err *err)
{
	json_t *summary = page_summary(info, data, generated_ms), *hist;
	char now[32];
	int rc;

	hist = json_pack("{s:i, s:s, s:O, s:O}", "version", 1, "generated_at",
			 units_format_utc(generated_ms, now, sizeof(now)),
			 "components", json_object_get(data, "components"),
			 "incidents", json_object_get(data, "incidents"));
	rc = page_write_files(dir, info, summary, data, hist, err);
	json_decref(hist);
	json_decref(summary);
	return rc;
}
