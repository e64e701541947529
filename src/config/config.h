/*
 * The configuration: one immutable snapshot per load. The master loads and
 * checks it before forking; children get the snapshot through fork and
 * never re-read files (smtpd could not: it is chrooted). A reload builds a
 * new snapshot and starts a new generation of children.
 *
 * Loading reports every problem, not just the first, as
 *   file:line: key: problem
 * Unknown keys are errors. The embedded default is YAML text parsed by the
 * same loader, so it obeys the same schema.
 */
#ifndef MW_CONFIG_CONFIG_H
#define MW_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "net/cidr.h"
#include "policy/rewrite.h"
#include "policy/route.h"
#include "util/log.h"

#define CONFIG_DEFAULT_SOURCE "<embedded default>"

struct listener_cfg {
	char *name;
	char *address;      /* numeric IPv4 or IPv6 address */
	unsigned port;
};

struct config {
	char *source;             /* file path, or CONFIG_DEFAULT_SOURCE */
	char *hostname;           /* our name in the greeting, EHLO and Received */
	char *state_dir;          /* absolute: spool/, maildir/, empty/ live here */
	char *user;               /* queue process user when started as root */
	char *smtpd_user;         /* smtpd process user when started as root */
	unsigned smtpd_processes;
	unsigned shutdown_grace;  /* seconds sessions get to finish on stop/reload */

	struct {
		enum log_target target;
		enum log_format format;
		int level;            /* LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR */
	} log;

	struct listener_cfg *listeners;
	size_t n_listeners;

	char **local_domains;     /* lower case */
	size_t n_local_domains;

	struct cidr_list trusted_networks;

	struct route *routes;
	size_t n_routes;

	char *rewrite_table;      /* path of the address rewriting table (TOP-5), or NULL */
	struct rewrite *rewrite;  /* its rules, loaded with the configuration */

	struct {
		char *servers;        /* "127.0.0.1:5353,[::1]:53" (from the dns.servers list), or NULL: the system's resolver */
		unsigned timeout;     /* seconds per try */
	} dns;

	struct {
		size_t line_length;       /* longest command line accepted, CRLF included */
		size_t message_size;      /* bytes; advertised with SIZE */
		unsigned recipients;      /* per message */
		unsigned connections;     /* per smtpd process */
		unsigned connections_per_ip;
		unsigned command_timeout; /* seconds */
		unsigned data_timeout;    /* seconds, between two reads during DATA/BDAT */
		unsigned errors;          /* bad commands before the session is closed */
	} limits;

	struct {
		unsigned retry_min;       /* seconds: first retry delay, doubled each time */
		unsigned retry_max;       /* seconds: longest delay between two tries */
		unsigned lifetime;        /* seconds a message may stay queued */
		unsigned delivery_concurrency;
		unsigned connect_timeout; /* seconds */
		unsigned reply_timeout;   /* seconds, per SMTP reply from the next hop */
		unsigned mx_port;         /* port of MX hosts (25; tests use their sink's) */
		char *smart_host;         /* smtp://host:port for every domain without a route, or NULL */
		struct route *smart_route;/* smart_host parsed */
		unsigned delay_warning;   /* seconds until a "delayed" DSN; 0: none */
		char *bounce_notify;      /* where undeliverable bounces go, or NULL: logged and dropped */
		unsigned per_destination; /* connections to one next hop */
		bool connection_reuse;    /* keep connections for the next message to the same next hop */
	} queue;
};

/* A growing list of "file:line: key: problem" strings. */
struct config_errors {
	char **items;
	size_t n;
};
void config_errors_add(struct config_errors *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void config_errors_free(struct config_errors *e);

/* Load a file (path) or, with path == NULL, the embedded default.
 * Returns NULL if there was any error; every error is in *errs. */
struct config *config_load(const char *path, struct config_errors *errs);

/* The embedded default configuration as YAML text. */
extern const char config_default_yaml[];

bool config_is_local_domain(const struct config *c, const char *domain, size_t len);

void config_free(struct config *c);

#endif
