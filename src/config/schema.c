/*
 * The table of scalar configuration keys and the value parsers behind it.
 * See schema.h for the contract.
 */
#include "config/schema.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "net/listen_addr.h"
#include "util/alloc.h"

/* ENUM values are stored as int; the log enums must be int-sized. */
static_assert(sizeof(enum log_target) == sizeof(int), "enum log_target is not int-sized");
static_assert(sizeof(enum log_format) == sizeof(int), "enum log_format is not int-sized");

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)
#define MINUTE 60ULL
#define HOUR (60ULL * MINUTE)
#define DAY (24ULL * HOUR)

static const struct schema_enum log_targets[] = {
	{ "stderr", LOG_TARGET_STDERR },
	{ "syslog", LOG_TARGET_SYSLOG },
	{ NULL, 0 },
};

static const struct schema_enum log_formats[] = {
	{ "kv", LOG_FORMAT_KV },
	{ "json", LOG_FORMAT_JSON },
	{ NULL, 0 },
};

static const struct schema_enum log_levels[] = {
	{ "debug", LOG_DEBUG },
	{ "info", LOG_INFO },
	{ "warning", LOG_WARNING },
	{ "error", LOG_ERR },
	{ NULL, 0 },
};

/* A user name as useradd(8) accepts it, conservatively: letters, digits,
 * '_', '.', '-', not starting with '-' (it would read as an option). */
static const char *check_user(const char *s, size_t len)
{
	if (s[0] == '-')
		return "not a user name (letters, digits, '_', '.', '-'; not starting with '-')";
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return "not a user name (letters, digits, '_', '.', '-'; not starting with '-')";
	}
	return NULL;
}

/* Paths end up in logs and system calls: no control characters. */
static const char *check_path(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "path contains control characters";
	return NULL;
}

/* Reply text goes into an SMTP reply line (RFC 5321 section 4.2):
 * printable ASCII only, no CR or LF that would end the reply early. */
static const char *check_reply_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return "reply text must be printable ASCII";
	return NULL;
}

/* A mailbox "local@domain" without brackets, as mail the gateway makes
 * goes to it or comes from it (the notice of an automatic level switch,
 * SCAN-11; TLS-RPT's reports): no spaces, controls or characters that
 * end an address in a header. */
const char *schema_check_mailbox(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	if (!at || at == s || memchr(at + 1, '@', len - (size_t)(at + 1 - s)))
		return "not a mailbox (local@domain)";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] > 0x7e || strchr("<>()[],;:\\\"", s[i]))
			return "not a mailbox (local@domain: printable ASCII, no spaces, brackets or quotes)";
	return schema_check_domain(at + 1, len - (size_t)(at + 1 - s));
}

/* Text written into a header or a report as it is (TLS-RPT's
 * organization-name and contact-info): printable ASCII only. */
static const char *check_printable(const char *s, size_t len)
{
	return check_reply_text(s, len) ? "printable ASCII only" : NULL;
}

/* libunbound's forwarder syntax, "ADDR" or "ADDR@PORT" with a numeric
 * address: checked here so that a typo is a config error, not a queue
 * that defers every DANE destination. */
static const char *check_forwarder(const char *s, size_t len)
{
	char addr[INET6_ADDRSTRLEN + 8];
	if (len >= sizeof(addr))
		return "not ADDR or ADDR@PORT";
	memcpy(addr, s, len);
	addr[len] = '\0';
	char *at = strchr(addr, '@');
	if (at) {
		*at = '\0';
		char *end;
		long port = strtol(at + 1, &end, 10);
		if (at[1] == '\0' || *end || port < 1 || port > 65535)
			return "port after @ must be 1 to 65535";
	}
	unsigned char buf[16];
	if (inet_pton(AF_INET, addr, buf) != 1 && inet_pton(AF_INET6, addr, buf) != 1)
		return "not a numeric IPv4 or IPv6 address";
	return NULL;
}

/* The metrics endpoint's address: a numeric address and a port, as
 * "127.0.0.1:9925" or "[::1]:9925" (listen_addr_parse). */
static const char *check_listen_addr(const char *s, size_t len)
{
	char text[INET6_ADDRSTRLEN + 16];
	if (len >= sizeof(text))
		return "not ADDR:PORT";
	memcpy(text, s, len);
	text[len] = '\0';
	struct sockaddr_storage ss;
	socklen_t sl;
	return listen_addr_parse(text, &ss, &sl) ? NULL : "not ADDR:PORT or [ADDR]:PORT with a numeric address and a port 1 to 65535";
}

static const struct schema_enum tls_versions[] = {
	{ "TLSv1.2", CONFIG_TLS_1_2 },
	{ "TLSv1.3", CONFIG_TLS_1_3 },
	{ NULL, 0 },
};

static const struct schema_enum tls_levels[] = {
	{ "none", TLS_LEVEL_NONE },
	{ "may", TLS_LEVEL_MAY },
	{ "encrypt", TLS_LEVEL_ENCRYPT },
	{ "verify", TLS_LEVEL_VERIFY },
	{ NULL, 0 },
};

/* An OpenSSL cipher list: letters, digits and + - ! : @ = _ . only. */
static const char *check_ciphers(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("+-!:@=_.", c)))
			return "not an OpenSSL cipher list";
	}
	return NULL;
}

#define OFF(field) offsetof(struct config, field)

const struct schema_key schema_keys[] = {
	{ "hostname", SCHEMA_STRING, 1, 253, OFF(hostname), NULL, schema_check_domain,
	  "our name in the SMTP greeting, EHLO and Received (default: the machine's name)" },
	{ "state_dir", SCHEMA_STRING, 1, 4095, OFF(state_dir), NULL, check_path,
	  "spool, maildirs and runtime files; relative to the configuration file's directory" },
	{ "user", SCHEMA_STRING, 1, 32, OFF(user), NULL, check_user,
	  "user of the queue process when started as root" },
	{ "smtpd_user", SCHEMA_STRING, 1, 32, OFF(smtpd_user), NULL, check_user,
	  "user of the internet-facing smtpd processes when started as root" },
	{ "scanner_user", SCHEMA_STRING, 1, 32, OFF(scanner_user), NULL, check_user,
	  "user of the scanner process (content checks) when started as root" },
	{ "allow_open_relay", SCHEMA_BOOL, 0, 0, OFF(allow_open_relay), NULL, NULL,
	  "accept trusted_networks that let much of the internet relay (0.0.0.0/0, ::/0, public space wider than /8)" },
	{ "smtpd_processes", SCHEMA_UINT, 1, 64, OFF(smtpd_processes), NULL, NULL,
	  "number of smtpd processes" },
	{ "shutdown_grace", SCHEMA_DURATION, 0, HOUR, OFF(shutdown_grace), NULL, NULL,
	  "time sessions get to finish on stop or reload" },
	{ "security.seccomp", SCHEMA_BOOL, 0, 0, OFF(security.seccomp), NULL, NULL,
	  "smtpd and the scanner under a seccomp filter of the system calls they use; false only if one is killed by SIGSYS" },
	{ "log.target", SCHEMA_ENUM, 0, 0, OFF(log.target), log_targets, NULL,
	  "where log lines go" },
	{ "log.format", SCHEMA_ENUM, 0, 0, OFF(log.format), log_formats, NULL,
	  "key=value or JSON log lines" },
	{ "log.level", SCHEMA_ENUM, 0, 0, OFF(log.level), log_levels, NULL,
	  "lowest level logged" },
	{ "limits.line_length", SCHEMA_SIZE, 512, 64 * KIB, OFF(limits.line_length), NULL, NULL,
	  "longest SMTP command line accepted, CRLF included" },
	{ "limits.message_size", SCHEMA_SIZE, KIB, 2 * GIB, OFF(limits.message_size), NULL, NULL,
	  "largest message accepted; advertised with SIZE" },
	{ "limits.recipients", SCHEMA_UINT, 1, 100000, OFF(limits.recipients), NULL, NULL,
	  "recipients per message" },
	{ "limits.connections", SCHEMA_UINT, 1, 100000, OFF(limits.connections), NULL, NULL,
	  "simultaneous sessions per smtpd process" },
	{ "limits.connections_per_ip", SCHEMA_UINT, 1, 100000, OFF(limits.connections_per_ip), NULL, NULL,
	  "simultaneous sessions per client address" },
	{ "limits.command_timeout", SCHEMA_DURATION, 1, HOUR, OFF(limits.command_timeout), NULL, NULL,
	  "idle time allowed while waiting for a command" },
	{ "limits.data_timeout", SCHEMA_DURATION, 1, HOUR, OFF(limits.data_timeout), NULL, NULL,
	  "idle time allowed between two reads of message data" },
	{ "limits.errors", SCHEMA_UINT, 1, 1000, OFF(limits.errors), NULL, NULL,
	  "bad commands before the session is closed" },
	{ "limits.tls_handshakes_per_minute", SCHEMA_UINT, 0, 100000, OFF(limits.tls_handshakes_per_minute), NULL, NULL,
	  "TLS handshakes per client address and minute (trusted networks exempt); 0: no limit" },
	{ "tls.min_version", SCHEMA_ENUM, 0, 0, OFF(tls.min_version), tls_versions, NULL,
	  "lowest TLS version accepted by the listeners (TLS-4)" },
	{ "tls.ciphers", SCHEMA_STRING, 1, 1024, OFF(tls.ciphers), NULL, check_ciphers,
	  "TLS 1.2 cipher list (forward secrecy only); TLS 1.3 uses OpenSSL's suites" },
	{ "outbound_tls.level", SCHEMA_ENUM, 0, 0, OFF(outbound_tls.level), tls_levels, NULL,
	  "outbound TLS when no tls_policy entry matches: none, may, encrypt or verify (TLS-5)" },
	{ "outbound_tls.min_version", SCHEMA_ENUM, 0, 0, OFF(outbound_tls.min_version), tls_versions, NULL,
	  "lowest TLS version outbound under encrypt and verify (TLS-7)" },
	{ "outbound_tls.ca_file", SCHEMA_STRING, 1, 4095, OFF(outbound_tls.ca_file), NULL, check_path,
	  "CA certificates for verify (default: the system store)" },
	{ "outbound_tls.mta_sts.enabled", SCHEMA_BOOL, 0, 0, OFF(outbound_tls.mta_sts.enabled), NULL, NULL,
	  "apply the MTA-STS policy (RFC 8461) of MX destinations that have no tls_policy entry (TLS-8)" },
	{ "outbound_tls.mta_sts.ca_file", SCHEMA_STRING, 1, 4095, OFF(outbound_tls.mta_sts.ca_file), NULL, check_path,
	  "CA certificates for the HTTPS policy fetch (default: the system store)" },
	{ "outbound_tls.mta_sts.fetch_timeout_ms", SCHEMA_UINT, 100, 60000, OFF(outbound_tls.mta_sts.fetch_timeout_ms),
	  NULL, NULL, "longest a delivery waits for a policy fetch before it uses the cache or may" },
	{ "outbound_tls.mta_sts.https_port", SCHEMA_UINT, 1, 65535, OFF(outbound_tls.mta_sts.https_port), NULL, NULL,
	  "port of the policy host mta-sts.<domain> (443; another only for tests)" },
	{ "outbound_tls.dane.enabled", SCHEMA_BOOL, 0, 0, OFF(outbound_tls.dane.enabled), NULL, NULL,
	  "apply DANE TLSA records (RFC 7672) of MX hosts whose MX and TLSA records are DNSSEC-validated (TLS-8)" },
	{ "outbound_tls.dane.trust_anchor", SCHEMA_STRING, 1, 4095, OFF(outbound_tls.dane.trust_anchor), NULL,
	  check_path, "DNSSEC trust anchor file, DS or DNSKEY records (Debian: /usr/share/dns/root.key)" },
	{ "outbound_tls.dane.resolver", SCHEMA_STRING, 1, 255, OFF(outbound_tls.dane.resolver), NULL, check_forwarder,
	  "resolver (ADDR or ADDR@PORT) the validator forwards to; it must pass DNSSEC records (default: recurse from the root)" },
	{ "outbound_tls.tlsrpt.enabled", SCHEMA_BOOL, 0, 0, OFF(outbound_tls.tlsrpt.enabled), NULL, NULL,
	  "count the TLS sessions under MTA-STS or DANE and send each policy domain a daily TLS-RPT report (RFC 8460)" },
	{ "outbound_tls.tlsrpt.from", SCHEMA_STRING, 1, 254, OFF(outbound_tls.tlsrpt.from), NULL, schema_check_mailbox,
	  "sender and From: of the reports (default: postmaster@ the hostname)" },
	{ "outbound_tls.tlsrpt.organization", SCHEMA_STRING, 1, 200, OFF(outbound_tls.tlsrpt.organization), NULL,
	  check_printable, "organization-name of the reports, printable ASCII (default: the hostname)" },
	{ "outbound_tls.tlsrpt.contact", SCHEMA_STRING, 1, 254, OFF(outbound_tls.tlsrpt.contact), NULL,
	  check_printable, "contact-info of the reports, printable ASCII (default: the from address)" },
	{ "auth.credentials", SCHEMA_STRING, 1, 4095, OFF(auth.credentials), NULL, check_path,
	  "file of user:crypt-hash lines (mailwarden passwd makes them)" },
	{ "auth.sender_logins", SCHEMA_STRING, 1, 4095, OFF(auth.sender_logins), NULL, check_path,
	  "file of 'address login[,login...]' lines: who may send as whom (REL-3)" },
	{ "auth.max_failures", SCHEMA_UINT, 1, 1000, OFF(auth.max_failures), NULL, NULL,
	  "failed AUTH attempts per client address before it is cut off" },
	{ "auth.lockout", SCHEMA_DURATION, 1, DAY, OFF(auth.lockout), NULL, NULL,
	  "how long a client with too many failed AUTH attempts is cut off" },
	{ "auth.failure_delay", SCHEMA_DURATION, 0, MINUTE, OFF(auth.failure_delay), NULL, NULL,
	  "delay before a failed AUTH attempt is answered" },
	{ "auth.received_identity", SCHEMA_BOOL, 0, 0, OFF(auth.received_identity), NULL, NULL,
	  "name the authenticated user in the Received header" },
	{ "rewrite_table", SCHEMA_STRING, 1, 4095, OFF(rewrite_table), NULL, check_path,
	  "address rewriting table (FROM -> TO per line); relative to the configuration file's directory" },
	{ "emergency.state_file", SCHEMA_STRING, 1, 4095, OFF(emergency.state_file), NULL, check_path,
	  "the emergency level in force (SCAN-11), kept across restarts; relative to state_dir; written by the queue user" },
	{ "emergency.notify", SCHEMA_STRING, 3, 254, OFF(emergency.notify), NULL, schema_check_mailbox,
	  "the administrator's mailbox: a notice mail for every automatic level switch (SCAN-11 triggers)" },
	{ "emergency.partners.file", SCHEMA_STRING, 1, 4095, OFF(emergency.partners.file), NULL, check_path,
	  "the known partners' database (SQLite, SCAN-11); relative to state_dir; written by the queue user" },
	{ "emergency.partners.max_age", SCHEMA_DURATION, HOUR, 3650 * DAY, OFF(emergency.partners.max_age), NULL,
	  NULL, "a partner not seen for this long is forgotten" },
	{ "emergency.partners.text", SCHEMA_STRING, 1, 200, OFF(emergency.partners.text), NULL, check_reply_text,
	  "the text of the 450 4.7.1 reply to a sender who is no known partner under partners_only" },
	{ "dns.timeout", SCHEMA_DURATION, 1, 60, OFF(dns.timeout), NULL, NULL,
	  "time to wait for a DNS server's answer, per try (two tries)" },
	{ "metrics.listen", SCHEMA_STRING, 1, INET6_ADDRSTRLEN + 8, OFF(metrics.listen), NULL, check_listen_addr,
	  "ADDR:PORT ([ADDR]:PORT for IPv6) of the Prometheus endpoint (GET /metrics, served by the queue); absent: none" },
};

const size_t schema_n_keys = sizeof(schema_keys) / sizeof(schema_keys[0]);

const struct schema_key *schema_find(const char *key, size_t len)
{
	for (size_t i = 0; i < schema_n_keys; i++)
		if (strlen(schema_keys[i].key) == len && memcmp(schema_keys[i].key, key, len) == 0)
			return &schema_keys[i];
	return NULL;
}

bool schema_is_section(const char *key, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < schema_n_keys; i++) {
		const char *k = schema_keys[i].key;
		if (strlen(k) > len && memcmp(k, key, len) == 0 && k[len] == '.')
			return true;
	}
	return false;
}

bool schema_parse_number(const char *text, size_t len, unsigned long long *out, bool *overflow)
{
	unsigned long long v = 0;

	*overflow = false;
	if (len == 0 || (text[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		unsigned d = (unsigned)(text[i] - '0');
		if (v > (~0ULL - d) / 10)
			*overflow = true;
		else
			v = v * 10 + d;
	}
	if (*overflow)
		return false;
	*out = v;
	return true;
}

const char *schema_check_domain(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0)
		return "empty domain name";
	if (len > 253)
		return "domain name longer than 253 bytes";
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return "empty label in domain name";
			if (s[i - 1] == '-')
				return "domain name label ends with '-'";
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return "not a domain name (letters, digits, '-' and '.')";
		if (c == '-' && label == 0)
			return "domain name label starts with '-'";
		if (++label > 63)
			return "domain name label longer than 63 bytes";
	}
	if (label == 0)
		return "domain name ends with '.'";
	if (s[len - 1] == '-')
		return "domain name label ends with '-'";
	return NULL;
}

/* A number with an optional one-letter unit from units[] (each with its
 * multiplier). Overflow of the product counts as overflow. */
struct unit {
	char letter;
	unsigned long long mult;
};

static bool parse_with_unit(const char *text, size_t len, const struct unit *units,
			    unsigned long long *out, bool *overflow)
{
	unsigned long long mult = 1, v;

	*overflow = false;
	if (len > 1) {
		for (const struct unit *u = units; u->letter; u++) {
			if (text[len - 1] == u->letter) {
				mult = u->mult;
				len--;
				break;
			}
		}
	}
	if (!schema_parse_number(text, len, &v, overflow))
		return false;
	if (v > ~0ULL / mult) {
		*overflow = true;
		return false;
	}
	*out = v * mult;
	return true;
}

static const struct unit duration_units[] = {
	{ 's', 1 }, { 'm', MINUTE }, { 'h', HOUR }, { 'd', DAY }, { 0, 0 },
};

static const struct unit size_units[] = {
	{ 'k', KIB }, { 'K', KIB }, { 'm', MIB }, { 'M', MIB }, { 'g', GIB }, { 'G', GIB }, { 0, 0 },
};


/* A bound as the administrator would write it: "2G", "1h", "1000". */
void schema_format_bound(enum schema_type type, unsigned long long v, char *buf, size_t size)
{
	static const struct unit size_out[] = { { 'G', GIB }, { 'M', MIB }, { 'k', KIB }, { 0, 0 } };
	static const struct unit dur_out[] = { { 'd', DAY }, { 'h', HOUR }, { 'm', MINUTE }, { 's', 1 }, { 0, 0 } };
	const struct unit *u = type == SCHEMA_SIZE ? size_out : type == SCHEMA_DURATION ? dur_out : NULL;

	for (; u && u->letter; u++) {
		if (v != 0 && v % u->mult == 0) {
			snprintf(buf, size, "%llu%c", v / u->mult, u->letter);
			return;
		}
	}
	snprintf(buf, size, "%llu", v);
}

void schema_format(const struct schema_key *k, const void *base, char *buf, size_t size)
{
	const char *field = (const char *)base + k->offset;
	const char *str;
	unsigned u;
	size_t z;
	bool b;
	int i;

	switch (k->type) {
	case SCHEMA_STRING:
		memcpy(&str, field, sizeof(str));
		snprintf(buf, size, "%s", str ? str : "(none)");
		return;
	case SCHEMA_UINT:
	case SCHEMA_DURATION:
		memcpy(&u, field, sizeof(u));
		schema_format_bound(k->type, u, buf, size);
		return;
	case SCHEMA_SIZE:
		memcpy(&z, field, sizeof(z));
		schema_format_bound(k->type, z, buf, size);
		return;
	case SCHEMA_BOOL:
		memcpy(&b, field, sizeof(b));
		snprintf(buf, size, "%s", b ? "true" : "false");
		return;
	case SCHEMA_ENUM:
		memcpy(&i, field, sizeof(i));
		snprintf(buf, size, "%d", i);
		for (const struct schema_enum *e = k->values; e && e->name; e++)
			if (e->value == i)
				snprintf(buf, size, "%s", e->name);
		return;
	}
	snprintf(buf, size, "?");
}

static bool out_of_range(const struct schema_key *k, char *problem, size_t problem_size)
{
	char lo[32], hi[32];

	schema_format_bound(k->type, k->min, lo, sizeof(lo));
	schema_format_bound(k->type, k->max, hi, sizeof(hi));
	snprintf(problem, problem_size, "must be between %s and %s", lo, hi);
	return false;
}

static bool text_is(const char *text, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(text, word, len) == 0;
}

static bool set_enum(const struct schema_key *k, char *field, const char *text, size_t len,
		     char *problem, size_t problem_size)
{
	size_t used;

	for (const struct schema_enum *e = k->values; e->name; e++) {
		if (text_is(text, len, e->name)) {
			memcpy(field, &e->value, sizeof(int));
			return true;
		}
	}
	used = (size_t)snprintf(problem, problem_size, "must be one of:");
	for (const struct schema_enum *e = k->values; e->name && used < problem_size; e++)
		used += (size_t)snprintf(problem + used, problem_size - used, "%s %s",
					 e == k->values ? "" : ",", e->name);
	return false;
}

bool schema_set(const struct schema_key *k, void *base, const char *text, size_t len,
		char *problem, size_t problem_size)
{
	char *field = (char *)base + k->offset;
	unsigned long long v = 0;
	bool overflow = false, ok;

	switch (k->type) {
	case SCHEMA_STRING: {
		const char *why;
		char *old;

		if (memchr(text, '\0', len)) {
			snprintf(problem, problem_size, "contains a NUL byte");
			return false;
		}
		if (len < k->min || len > k->max) {
			snprintf(problem, problem_size, "must be %llu to %llu bytes long", k->min, k->max);
			return false;
		}
		if (k->check && (why = k->check(text, len)) != NULL) {
			snprintf(problem, problem_size, "%s", why);
			return false;
		}
		memcpy(&old, field, sizeof(old));
		free(old);
		char *s = xstrndup(text, len);
		memcpy(field, &s, sizeof(s));
		return true;
	}
	case SCHEMA_ENUM:
		return set_enum(k, field, text, len, problem, problem_size);
	case SCHEMA_BOOL: {
		bool b;
		if (text_is(text, len, "true") || text_is(text, len, "yes"))
			b = true;
		else if (text_is(text, len, "false") || text_is(text, len, "no"))
			b = false;
		else {
			snprintf(problem, problem_size, "not a boolean (use true, false, yes or no)");
			return false;
		}
		memcpy(field, &b, sizeof(b));
		return true;
	}
	case SCHEMA_UINT:
		ok = schema_parse_number(text, len, &v, &overflow);
		if (!ok && !overflow) {
			snprintf(problem, problem_size, "not a number (use decimal digits)");
			return false;
		}
		break;
	case SCHEMA_SIZE:
		ok = parse_with_unit(text, len, size_units, &v, &overflow);
		if (!ok && !overflow) {
			snprintf(problem, problem_size, "not a size (use e.g. 10M, 512k or a number of bytes)");
			return false;
		}
		break;
	case SCHEMA_DURATION:
		ok = parse_with_unit(text, len, duration_units, &v, &overflow);
		if (!ok && !overflow) {
			snprintf(problem, problem_size, "not a duration (use e.g. 30s, 5m, 1h, 2d or a number of seconds)");
			return false;
		}
		break;
	default:
		snprintf(problem, problem_size, "internal error: unknown type");
		return false;
	}

	if (overflow || v < k->min || v > k->max)
		return out_of_range(k, problem, problem_size);
	if (k->type == SCHEMA_SIZE) {
		size_t s = (size_t)v;
		memcpy(field, &s, sizeof(s));
	} else {
		unsigned u = (unsigned)v;
		memcpy(field, &u, sizeof(u));
	}
	return true;
}

bool schema_parse_duration(const char *text, unsigned long long *seconds)
{
	bool overflow = false;
	return parse_with_unit(text, strlen(text), duration_units, seconds, &overflow) && !overflow;
}
