/* The kubectl / PodList reader; see podlist.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podlist.h"

static const char *str_at(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The port of the container port named "http", else the first declared. */
static long first_port(json_t *spec)
{
	json_t *containers = json_object_get(spec, "containers"), *c, *p;
	long first = 0;
	size_t i, j;

	json_array_foreach(containers, i, c)
	{
		json_array_foreach(json_object_get(c, "ports"), j, p)
		{
			json_int_t port = json_integer_value(
				json_object_get(p, "containerPort"));
			const char *name = str_at(p, "name");

			if (port <= 0 || port > 65535)
				continue;
			if (name && !strcmp(name, "http"))
				return (long)port;
			if (!first)
				first = (long)port;
		}
	}
	return first;
}

static bool is_ready(json_t *status)
{
	json_t *cond;
	size_t i;

	json_array_foreach(json_object_get(status, "conditions"), i, cond)
	{
		const char *type = str_at(cond, "type");
		const char *st = str_at(cond, "status");

		if (type && !strcmp(type, "Ready"))
			return st && !strcmp(st, "True");
	}
	return false;
}

int podlist_read(json_t *doc, const char *name, struct pod **pods, size_t *n,
		 struct sd_err *err)
{
	const char *kind = str_at(doc, "kind");
	json_t *items = json_object_get(doc, "items"), *item;
	struct pod *out;
	size_t i;

	*pods = NULL;
	*n = 0;
	if (!json_is_object(doc) || !kind ||
	    (strcmp(kind, "List") && strcmp(kind, "PodList")))
		return err_set(err, SD_EXIT_CANNOT,
			       "'%s' is not a pod list (kind %s%s%s); expected "
			       "the output of 'kubectl get pods -o json'",
			       name, kind ? "'" : "", kind ? kind : "missing",
			       kind ? "'" : "");
	if (!json_is_array(items))
		return err_set(err, SD_EXIT_CANNOT,
			       "'%s': 'items' is not a list", name);
	out = calloc(json_array_size(items) + 1, sizeof(*out));
	if (!out)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	json_array_foreach(items, i, item)
	{
		json_t *meta = json_object_get(item, "metadata");
		json_t *status = json_object_get(item, "status");
		const char *item_kind = str_at(item, "kind");
		const char *pname = str_at(meta, "name");
		const char *ns = str_at(meta, "namespace");
		const char *ip = str_at(status, "podIP");
		struct pod *p = &out[i];
		char full[512];

		if (!json_is_object(item) ||
		    (item_kind && strcmp(item_kind, "Pod")) || !pname) {
			podlist_free(out, i);
			return err_set(err, SD_EXIT_CANNOT,
				       "'%s': item %zu is not a pod with a "
				       "name%s%s%s",
				       name, i, item_kind ? " (kind '" : "",
				       item_kind ? item_kind : "",
				       item_kind ? "')" : "");
		}
		snprintf(full, sizeof(full), "%s%s%s", ns ? ns : "",
			 ns ? "/" : "", pname);
		p->name = strdup(full);
		p->namespace = ns ? strdup(ns) : NULL;
		p->pod_name = strdup(pname);
		p->ip = ip && *ip ? strdup(ip) : NULL;
		p->phase =
			strdup(str_at(status, "phase") ? str_at(status, "phase")
						       : "Unknown");
		p->terminating = json_object_get(meta, "deletionTimestamp") &&
				 !json_is_null(json_object_get(
					 meta, "deletionTimestamp"));
		p->ready = is_ready(status);
		p->port = first_port(json_object_get(item, "spec"));
	}
	*pods = out;
	*n = json_array_size(items);
	return 0;
}

void podlist_free(struct pod *pods, size_t n)
{
	for (size_t i = 0; pods && i < n; i++) {
		free(pods[i].name);
		free(pods[i].namespace);
		free(pods[i].pod_name);
		free(pods[i].ip);
		free(pods[i].phase);
	}
	free(pods);
}

char *podlist_url(const struct pod *p, const char *scheme, long port,
		  const char *path)
{
	bool v6 = p->ip && strchr(p->ip, ':');
	size_t n = strlen(p->ip ? p->ip : "") + strlen(path) + 64;
	char *url = malloc(n);

	if (url)
		snprintf(url, n, "%s://%s%s%s:%ld%s%s", scheme, v6 ? "[" : "",
			 p->ip ? p->ip : "", v6 ? "]" : "", port,
			 path[0] == '/' ? "" : "/", path);
	return url;
}
