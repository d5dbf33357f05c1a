/* Merging the summaries of several probes; see merge.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "merge.h"
#include "page.h"
#include "units.h"

static int level_of(const char *status)
{
	for (int i = 0; i < 4; i++)
		if (status && !strcmp(status, PAGE_STATUS[i]))
			return i;
	return 2; /* under_maintenance or unknown: not operational */
}

/* Does this location vote? A readable summary, fresh as it defines it. */
static bool fresh(const struct merge_input *in, int64_t now_ms, json_t *notes)
{
	json_t *page = json_object_get(in->summary, "page");
	json_t *x = json_object_get(in->summary, "x_safedeploy");
	int64_t at = units_parse_utc(
		json_string_value(json_object_get(page, "updated_at")));
	json_int_t stale =
		json_integer_value(json_object_get(x, "stale_after_seconds"));

	if (!in->summary ||
	    !json_is_array(json_object_get(in->summary, "components"))) {
		json_array_append_new(notes,
				      json_sprintf("%s: not a status summary; "
						   "it does not vote",
						   in->name));
		return false;
	}
	if (at < 0) {
		json_array_append_new(notes,
				      json_sprintf("%s: no page.updated_at; it "
						   "does not vote",
						   in->name));
		return false;
	}
	if (stale <= 0)
		stale = 180;
	if (now_ms - at > stale * 1000) {
		json_array_append_new(
			notes, json_sprintf("%s: stale (updated %lld s ago, "
					    "stale after %lld s); it does not "
					    "vote",
					    in->name,
					    (long long)((now_ms - at) / 1000),
					    (long long)stale));
		return false;
	}
	return true;
}

json_t *merge_summaries(const struct merge_input *in, size_t n, int quorum,
			int64_t now_ms, size_t *voting, json_t *notes)
{
	json_t *comps = json_array(), *votes = json_object(),
	       *incidents = json_array(), *locations = json_array();
	json_t *first_page = NULL, *doc, *page, *x, *c, *xcomps = json_object();
	bool *ok = calloc(n + 1, sizeof(bool));
	json_int_t stale_min = 0, interval_min = 0;
	int worst = 0;
	size_t i;
	char now[32];

	*voting = 0;
	for (size_t l = 0; ok && l < n; l++) {
		ok[l] = fresh(&in[l], now_ms, notes);
		*voting += ok[l];
		json_t *upd = json_object_get(
			json_object_get(in[l].summary, "page"), "updated_at");

		json_array_append_new(locations,
				      json_pack("{s:s, s:O, s:b}", "name",
						in[l].name, "updated_at",
						upd ? upd : json_null(),
						"voting", ok[l]));
		if (!ok[l])
			continue;
		if (!first_page)
			first_page = json_object_get(in[l].summary, "page");
		{
			json_t *xs =
				json_object_get(in[l].summary, "x_safedeploy");
			json_int_t st = json_integer_value(json_object_get(
					   xs, "stale_after_seconds")),
				   iv = json_integer_value(json_object_get(
					   xs, "interval_seconds"));

			if (st > 0 && (!stale_min || st < stale_min))
				stale_min = st;
			if (iv > 0 && (!interval_min || iv < interval_min))
				interval_min = iv;
		}
		/* The components, in order of first appearance; each one's
		 * vote per location. */
		json_array_foreach(json_object_get(in[l].summary, "components"),
				   i, c)
		{
			const char *id =
				json_string_value(json_object_get(c, "id"));
			json_t *v;

			if (!id)
				continue;
			v = json_object_get(votes, id);
			if (!v) {
				v = json_object();
				json_object_set_new(votes, id, v);
				json_array_append_new(comps, json_deep_copy(c));
			}
			json_object_set(v, in[l].name,
					json_object_get(c, "status"));
		}
	}
	json_array_foreach(comps, i, c)
	{
		const char *id = json_string_value(json_object_get(c, "id"));
		json_t *v = json_object_get(votes, id), *s;
		int down = 0, counts[4] = {0}, lv = 0;
		const char *loc;

		json_object_foreach(v, loc, s)
		{
			int l = level_of(json_string_value(s));

			(void)loc;
			if (l > 0) {
				down++;
				counts[l]++;
			}
		}
		if (*voting < (size_t)quorum) {
			lv = 2; /* no quorum possible: unknown */
		} else if (down >= quorum) {
			/* What most of them said; of two as common, the
			 * worse. */
			lv = 1;
			for (int k = 1; k < 4; k++)
				if (counts[k] && counts[k] >= counts[lv])
					lv = k;
		}
		if (lv > worst)
			worst = lv;
		json_object_set_new(c, "status", json_string(PAGE_STATUS[lv]));
		json_object_set_new(
			xcomps, id,
			json_pack("{s:O, s:i}", "votes", v, "down", down));
		/* The incidents of a component that is down by quorum. */
		for (size_t l = 0;
		     lv >= 2 && *voting >= (size_t)quorum && l < n; l++) {
			size_t k;
			json_t *inc;

			if (!ok[l])
				continue;
			json_array_foreach(
				json_object_get(in[l].summary, "incidents"), k,
				inc)
			{
				json_t *ic = json_array_get(
					json_object_get(inc, "components"), 0);

				const char *cid = json_string_value(
					json_object_get(ic, "id"));

				if (cid && !strcmp(cid, id)) {
					json_t *copy = json_deep_copy(inc);

					json_object_set_new(
						copy, "id",
						json_sprintf(
							"%s-%zu",
							json_string_value(
								json_object_get(
									inc,
									"id")),
							l));
					json_array_append_new(incidents, copy);
					break;
				}
			}
		}
	}
	units_format_utc(now_ms, now, sizeof(now));
	page = first_page ? json_deep_copy(first_page) : json_object();
	json_object_set_new(page, "updated_at", json_string(now));
	x = json_pack("{s:s, s:I, s:I, s:i, s:I, s:o, s:o}", "generated_at",
		      now, "interval_seconds", interval_min ? interval_min : 60,
		      "stale_after_seconds", stale_min ? stale_min : 180,
		      "quorum", quorum, "voting", (json_int_t)*voting,
		      "locations", locations, "components", xcomps);
	doc = page_document(page, worst, comps, incidents, x);
	json_decref(votes);
	free(ok);
	return doc;
}
