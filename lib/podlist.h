/* Reading `kubectl get pods -o json` (kind List of Pods) or an API PodList:
 * each pod's name, IP, whether it is terminating or Ready, and the port of
 * its first container (the one named "http" if there is one). */
#ifndef SD_PODLIST_H
#define SD_PODLIST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"

struct pod {
	char *name;	  /* namespace/name when a namespace is given */
	char *namespace;  /* metadata.namespace, or NULL */
	char *pod_name;	  /* metadata.name */
	char *ip;	  /* status.podIP, NULL when there is none yet */
	char *phase;	  /* status.phase */
	bool terminating; /* metadata.deletionTimestamp is set */
	bool ready;	  /* the Ready condition is True */
	long port;	  /* the container port, 0 when none is declared */
};

/* Read the pods of doc. name is used in messages. An object that is not a
 * List or PodList, or items that are not pods, is an SD_EXIT_CANNOT error
 * naming the item. Zero items is not an error here. */
int podlist_read(json_t *doc, const char *name, struct pod **pods, size_t *n,
		 struct sd_err *err);
void podlist_free(struct pod *pods, size_t n);

/* http://IP:PORT/PATH, with an IPv6 address in brackets. Malloc'd. */
char *podlist_url(const struct pod *p, const char *scheme, long port,
		  const char *path);

#endif
