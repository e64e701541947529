/*
 * The walk over GMime's tree that gives the MIME view (content/mime.h) its
 * leaf order, for the modules that need GMime's objects themselves: the
 * view (mime.c) copies each leaf's content, the strip action
 * (content/strip.c) replaces leaves. Both parse and walk through here, so
 * the leaf numbered i by one is the leaf numbered i by the other (a check
 * names a part by its index in the view; the strip removes that part).
 */
#ifndef MW_CONTENT_MIME_WALK_H
#define MW_CONTENT_MIME_WALK_H

#include <stddef.h>
#include <stdint.h>

#include <gmime/gmime.h>

#include "content/mime.h"

struct mime_walk_ops {
	/* An entity's header section below the message's own (may be NULL). */
	void (*entity)(void *arg, GMimeObject *obj);
	/* Leaf number leaf (0, 1, ... in message order, within max_parts):
	 * part, at depth, held by parent at index (a GMimeMultipart's index,
	 * or -1 when parent is the GMimeMessage whose body it is). */
	void (*leaf)(void *arg, size_t leaf, GMimePart *part, unsigned depth, GMimeObject *parent, int index);
};

struct mime_walker {
	const struct mime_limits *lim;
	const struct mime_walk_ops *ops;
	void *arg;
	size_t leaves;             /* leaves seen so far */
	uint32_t problems;         /* enum mime_problem bits the walk found */
};

/* GMime's message of msg[0..len), parsed as mime_parse does (problems get
 * the parser's warnings; *extent: how much of msg GMime was given, less
 * than len when a line count passed its limit). NULL: not a message.
 * Caller unrefs. */
GMimeMessage *mime_gmime_parse(const char *msg, size_t len, const struct mime_limits *lim, uint32_t *problems,
			       size_t *extent);

/* Every entity and leaf of message, in the view's order, within
 * w->lim's depth and part limits. */
void mime_walk(GMimeMessage *message, struct mime_walker *w);

#endif
