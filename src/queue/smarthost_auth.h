/*
 * queue.smart_host_auth (issue 15): the user name and password the queue
 * logs in with at the smart host (smtp/client.h, smtp/sasl_client.h).
 *
 *   queue:
 *     smart_host: smtps://relay.provider.example:465
 *     smart_host_auth: {credentials: /etc/mailwarden/relay-credentials}
 *
 * The credentials file holds one line "user password": the user name up
 * to the first space or tab, then, after the blanks, the password to the
 * end of the line (it may hold spaces; a trailing CR is cut). Empty lines
 * and lines starting with '#' are ignored. Each 1 to 255 bytes, no
 * control bytes. The file must be a regular file that others (neither
 * owner nor group) cannot read or write: a password readable by every
 * local user is refused at check-config and start.
 *
 * Who reads it: check-config and the master (preflight_check) check it
 * before anything starts; the queue process reads it at start and at
 * every reload, as the user it runs as (not chrooted, like the other
 * files it reads), and keeps the password away from smtpd and the
 * scanner, which never load it.
 */
#ifndef MW_QUEUE_SMARTHOST_AUTH_H
#define MW_QUEUE_SMARTHOST_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <libfyaml.h>

struct config;
struct config_errors;
struct loader;
struct sasl_creds;

/* The loader's parser of "queue.smart_host_auth" (v its value, name
 * its dotted key): a mapping with "credentials: FILE". Sets *path (the
 * file as written, owned) and *line (its line); every problem is
 * reported with file, line and key. */
void smarthost_auth_parse(struct loader *ld, struct fy_node *v, const char *name, int kline, char **path,
			  int *line);

/* Read the credentials file (format above) into *out. false with
 * "path: problem" or "path:line: problem" in err; *out is then wiped.
 * Blocking file I/O: at load and reload only, never per delivery. */
bool smarthost_auth_read(const char *path, struct sasl_creds *out, char *err, size_t errlen);

/* check-config and the master's preflight: queue.smart_host_auth needs
 * an SMTP smart host and a readable, private, well-formed file. Adds
 * "file:line: key: problem" lines to errs. */
void smarthost_auth_check(const struct config *c, struct config_errors *errs);

/* The queue's copy, read again on every reload (scheduler.c holds it). */
struct smarthost_auth;
struct smarthost_auth *smarthost_auth_new(void);
/* Read c's file (none configured: forget the credentials); a failure is
 * logged and leaves no credentials, so smart host mail then waits. */
void smarthost_auth_reload(struct smarthost_auth *a, const struct config *c);
/* The credentials, or NULL when none are configured or they could not
 * be read. */
const struct sasl_creds *smarthost_auth_get(const struct smarthost_auth *a);
void smarthost_auth_free(struct smarthost_auth *a);

#endif
