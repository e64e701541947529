/*
 * The "queue:" section of the configuration: retries, lifetime, bounces,
 * next-hop connections and the smart host (TOP-2) with its AUTH, registered with the
 * loader as queue_config_section (config/section.h; master/sections.c
 * lists it). Its keys and their defaults are the table in queue/config.c;
 * the embedded default writes "queue: {}", so every loaded snapshot has
 * the part (struct config's queue is never NULL there). A queue: section
 * in the user's file replaces it as a whole, unset keys taking the same
 * defaults.
 */
#ifndef MW_QUEUE_CONFIG_H
#define MW_QUEUE_CONFIG_H

#include <stdbool.h>

struct route;

struct queue_config {
	unsigned retry_min;       /* seconds: first retry delay, doubled each time */
	unsigned retry_max;       /* seconds: longest delay between two tries */
	unsigned lifetime;        /* seconds a message may stay queued */
	unsigned delivery_concurrency;
	unsigned connect_timeout; /* seconds */
	unsigned reply_timeout;   /* seconds, per SMTP reply from the next hop */
	unsigned mx_port;         /* port of MX hosts (25; tests use their sink's) */
	bool mx_allow_loopback;   /* MX hosts may resolve to loopback (tests); else a loop (queue/mx_self.h) */
	char *smart_host;         /* smtp://host:port for every domain without a route, or NULL */
	struct route *smart_route;/* smart_host parsed (policy/route.h), domain "*" */
	char *smart_host_auth;    /* issue 15: its credentials file (queue/smarthost_auth.h), or NULL */
	int smart_host_auth_line; /* the line that names the file, for messages */
	unsigned delay_warning;   /* seconds until a "delayed" DSN; 0: none */
	char *bounce_notify;      /* where undeliverable bounces go, or NULL: logged and dropped */
	unsigned per_destination; /* connections to one next hop */
	bool connection_reuse;    /* keep connections for the next message to the same next hop */
	char *source_address;     /* "192.0.2.25 2001:db8::25" (net/srcaddr.h), or NULL: the kernel's choice */
	unsigned quarantine_expiry; /* seconds a quarantined message is kept; 0: until deleted */
	/* The quarantine digest (quarantine/digest.h): one mail per recipient
	 * of inbound mail held since the last one, every digest_interval. */
	bool quarantine_digest;
	unsigned quarantine_digest_interval; /* seconds */
	char *quarantine_digest_at;          /* "HH:MM" local time, daily; NULL: every interval */
	char *quarantine_digest_from;        /* sender and From:, or NULL: postmaster@hostname */
	char *quarantine_digest_subject;
	unsigned quarantine_digest_max;      /* entries listed in one digest */
};

struct config_section;
extern const struct config_section queue_config_section;

#endif
