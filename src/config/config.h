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
#include "util/log.h"

#define CONFIG_DEFAULT_SOURCE "<embedded default>"

/* Parts owned by layers above config/ (section.h): opaque here. */
struct queue_config;    /* queue/config.h */
struct rewrite;         /* policy/rewrite.h */
struct route;           /* policy/route.h */
struct scan_config;     /* scan/policy.h */
struct tls_policy_cfg;  /* policy/tlspolicy.h */

/* TLS-1/TLS-2/TLS-3: what a listener is for, how it speaks TLS, whether it takes AUTH. */
enum listener_mode { LISTENER_MTA, LISTENER_SUBMISSION };
enum listener_tls { LISTENER_TLS_NONE, LISTENER_TLS_STARTTLS, LISTENER_TLS_IMPLICIT };
enum listener_auth { LISTENER_AUTH_OFF, LISTENER_AUTH_OPTIONAL, LISTENER_AUTH_REQUIRED };

struct listener_cfg {
	char *name;
	char *address;      /* numeric IPv4 or IPv6 address */
	unsigned port;
	enum listener_mode mode;        /* default mta */
	enum listener_tls tls;          /* default starttls (implicit for nobody by default) */
	enum listener_auth auth;        /* default: off for mta, required for submission */
	struct cidr_list trusted_networks; /* REL-2 per listener: added to the global list */
	unsigned greet_delay;           /* seconds before the 220; input before it ends the session (0: off) */
};

/* Protocol versions as OpenSSL numbers them (TLS1_2_VERSION, TLS1_3_VERSION);
 * the configuration does not include OpenSSL. */
#define CONFIG_TLS_1_2 0x0303
#define CONFIG_TLS_1_3 0x0304

/* TLS-5/TLS-7: outbound TLS levels, weakest first. */
enum tls_level { TLS_LEVEL_NONE, TLS_LEVEL_MAY, TLS_LEVEL_ENCRYPT, TLS_LEVEL_VERIFY };

struct tls_cert_cfg {
	char *cert;         /* PEM certificate chain file (absolute) */
	char *key;          /* PEM private key file (absolute) */
	int line;           /* where the user's file lists it; 0: none */
};

/* SCAN-11: whose mail a level still accepts (config/levels.c). */
enum partners_only { PARTNERS_ONLY_OFF, PARTNERS_ONLY_INBOUND, PARTNERS_ONLY_OUTBOUND, PARTNERS_ONLY_BOTH };

struct config;

#define CONFIG_LEVELS_MAX 16   /* emergency levels, level 0 included */

/* SCAN-11: a level's automatic trigger (config/level_trigger.c). The
 * level goes up once any one condition has held for hold_for seconds and
 * down once all have been clear for clear_for seconds (queue/trigger.h).
 * A field of 0 is a condition not named. */
struct level_trigger {
	bool set;                      /* the level has a trigger: section */
	unsigned queue_depth;          /* messages in the queue, at least */
	unsigned received_per_minute;  /* messages received in the last 60 seconds, at least */
	unsigned sessions;             /* SMTP sessions open in all smtpd processes, at least */
	unsigned malware_percent;      /* share of received messages with a malware finding, at least */
	unsigned malware_minutes;      /* ... in the last this many minutes */
	unsigned malware_min_messages; /* ... of at least this many messages received */
	size_t spool_free_below;       /* bytes free on the spool's file system, fewer than */
	unsigned hold_for;             /* seconds a condition must hold to raise the level ("for") */
	unsigned clear_for;            /* seconds all must be clear to lower it again */
	int line;                      /* of trigger: in the user's file */
};

struct config_level {
	char *name;               /* a word: [a-z0-9_-], unique */
	int line;                 /* of the entry in the user's file; 0: the implicit level 0 */
	struct config *cfg;       /* the snapshot with the level's overrides; NULL for level 0 */
	struct level_trigger trigger;  /* automatic switching; .set false: by hand only */
};

struct config {
	unsigned refs;            /* holds besides the loader's: config_ref() */
	char *source;             /* file path, or CONFIG_DEFAULT_SOURCE */
	char source_sha256[65];   /* hex SHA-256 of the file's bytes as loaded; "" for the default */
	char *hostname;           /* our name in the greeting, EHLO and Received */
	char *state_dir;          /* absolute: spool/, maildir/, empty/ live here */
	char *user;               /* queue process user when started as root */
	char *smtpd_user;         /* smtpd process user when started as root */
	char *scanner_user;       /* scanner process user when started as root */
	unsigned smtpd_processes;
	unsigned shutdown_grace;  /* seconds sessions get to finish on stop/reload */
	struct {
		char *listen;         /* "ADDR:PORT" of the Prometheus endpoint; NULL: none (issue 15) */
	} metrics;
	struct {
		bool seccomp;         /* smtpd and the scanner under a system call filter (src/sandbox, issue 15) */
	} security;

	struct {
		enum log_target target;
		enum log_format format;
		int level;            /* LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR */
	} log;

	struct listener_cfg *listeners;
	size_t n_listeners;

	char **local_domains;     /* lower case; ".domain": every subdomain of domain */
	size_t n_local_domains;

	struct cidr_list trusted_networks;
	bool allow_open_relay;    /* REL-1: accept trusted networks with public space beyond a /8 */

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
		unsigned tls_handshakes_per_minute; /* per client address, trusted networks exempt; 0: no limit */
	} limits;

	struct {
		int min_version;          /* CONFIG_TLS_1_2 or CONFIG_TLS_1_3 (TLS-4) */
		char *ciphers;            /* TLS 1.2 cipher list (OpenSSL syntax), forward secrecy only */
	} tls;
	struct tls_cert_cfg *certificates;  /* first = default; the others chosen by SNI */
	size_t n_certificates;
	char **tls_required_domains;        /* TLS-6: inbound only over TLS; lower case, ".domain" as above */
	size_t n_tls_required_domains;

	struct {
		int level;                /* enum tls_level: default for every domain */
		int min_version;
		char *ca_file;            /* for verify; NULL: the system store */
		/* TLS-8: MTA-STS (RFC 8461) for MX destinations without a tls_policy entry */
		struct {
			bool enabled;
			char *ca_file;            /* for the HTTPS policy fetch; NULL: the system store */
			unsigned fetch_timeout_ms;
			unsigned https_port;      /* of mta-sts.<domain>: 443 (tests use another) */
		} mta_sts;
		/* TLS-8: DANE (RFC 7672) for MX destinations; validated in
		 * process by libunbound (dns/dnssec.h) */
		struct {
			bool enabled;
			char *trust_anchor;       /* DS/DNSKEY file: Debian's /usr/share/dns/root.key */
			char *resolver;           /* "ADDR[@PORT]" to forward to; NULL: from the root */
		} dane;
		/* TLS-8: TLS-RPT (RFC 8460), daily reports of the sessions under
		 * MTA-STS or DANE (queue/tlsrpt.h) */
		struct {
			bool enabled;
			char *from;               /* reporting address; NULL: postmaster@hostname */
			char *organization;       /* organization-name; NULL: the hostname */
			char *contact;            /* contact-info; NULL: the reporting address */
		} tlsrpt;
	} outbound_tls;
	struct tls_policy_cfg *tls_policy;  /* TLS-7: per destination domain (the "tls_policy:" section, policy/config.c) */
	size_t n_tls_policy;

	struct {
		char *credentials;        /* user:crypt-hash file; NULL: nobody can log in */
		char *sender_logins;      /* address login[,login...] file; NULL: default rule */
		unsigned max_failures;    /* per client address before the lock-out */
		unsigned lockout;         /* seconds */
		unsigned failure_delay;   /* seconds before a failed AUTH is answered */
		bool received_identity;   /* name the AUTH identity in Received */
	} auth;

	struct queue_config *queue;   /* the "queue:" section (queue/config.c); never NULL once loaded */

	struct scan_config *scan;     /* the "scan:" section (scan/config.c); NULL: no scanning */

	/* SCAN-11: the emergency levels (the "emergency:" section,
	 * config/levels.c). levels[0] is normal: this configuration as
	 * written; every other level is a whole snapshot of its own, built
	 * and checked at load time with the level's overrides applied, so
	 * that switching is choosing a pointer (config_level()). */
	struct {
		char *state_file;         /* absolute; default state_dir/spool/emergency.state (the queue writes it) */
		char *notify;             /* the administrator's mailbox for automatic switches; NULL: none */
		struct config_level *levels;
		size_t n_levels;          /* at least 1 once loaded */
		/* Known communication partners (config/partners.c): kept
		 * under emergency: because they serve its partners_only
		 * levels, and learned at every level so that they are
		 * there when an emergency begins. Not a level's override:
		 * one store for all levels. */
		struct {
			char *file;       /* absolute; default state_dir/spool/partners.db (the queue writes it) */
			unsigned max_age; /* seconds a pair stays known after it was last seen */
			char *text;       /* text of the 450 4.7.1 reply to a stranger under partners_only */
			char **allow;     /* static allow list: lower-case addresses and domains */
			size_t n_allow;
		} partners;
	} emergency;
	/* In a level's snapshot: accept only mail between known partners
	 * (state/partners.h, state/partner_cache.h). PARTNERS_ONLY_OFF in
	 * level 0. */
	enum partners_only partners_only;

	int *key_lines;               /* per key (loader.h set_line): line of the user's file that set it, 0 if none */
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
/* The same for the command-line tools: every error printed to stderr. */
struct config *config_load_or_report(const char *path);

/* The embedded default configuration as YAML text. */
extern const char config_default_yaml[];
/* The embedded default's scan: section (only without a configuration
 * file): the demo scans content with config_default_rules(). Free it. */
char *config_default_scan_yaml(void);
/* The rules the demo scans with: Debian's spamassassin rules when that
 * package is installed, else mailwarden's built-in file, else NULL (no
 * rules; the other content checks still run). *what says which, in a few
 * words, for the log and check-config. config_default_rules_in() is the
 * same choice between given places. */
const char *config_default_rules(const char **what);
const char *config_default_rules_in(const char *debian_dir, const char *builtin_file, const char **what);

/* REL-1: is the domain (len bytes, any case) local? An entry ".example.org"
 * covers every subdomain (a.example.org, b.a.example.org), not
 * example.org itself, like a route key. */
bool config_is_local_domain(const struct config *c, const char *domain, size_t len);

/* The domain of "postmaster" without a domain (RFC 5321 4.5.1): the first
 * local domain that is not a ".domain" tree, else the hostname. */
const char *config_postmaster_domain(const struct config *c);

/* TLS-6: must mail for this domain arrive over TLS? */
bool config_tls_required_domain(const struct config *c, const char *domain, size_t len);

/* The line of the user's file that set a key of the schema such as
 * "auth.credentials" or of a registered section ("queue.bounce_notify"),
 * or 0 (not set there, or no such key): for file:line: key messages
 * about what the key names. */
int config_key_line(const struct config *c, const char *key);

/* SCAN-11: the snapshot of level n of c (c itself for level 0), or NULL
 * if c has no such level. c is the configuration as loaded, not a level's
 * snapshot. */
const struct config *config_level(const struct config *c, size_t n);

/* The level a word names: its number ("2") or its name ("flood"); -1 if
 * none. */
long config_level_find(const struct config *c, const char *word);

/* check-config --levels: "level N NAME:" and then one line
 * "  key: base -> level" per setting level N changes, for every level. */
void config_levels_describe(const struct config *c, struct config_errors *out);

/* The listener called name, or NULL. */
const struct listener_cfg *config_listener(const struct config *c, const char *name);

/* A configuration is a snapshot that lives while anyone holds it (the
 * queue swaps in a reloaded one while deliveries that started under the
 * old one still read it): config_ref() takes one more hold, config_free()
 * or config_unref() gives one back and frees on the last. Not thread-safe:
 * holds are taken and given back on one thread (the event loop's). */
const struct config *config_ref(const struct config *c);
void config_unref(const struct config *c);
void config_free(struct config *c);

#endif
