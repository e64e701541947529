/*
 * The credentials (auth.credentials: "user:crypt-hash" lines) and the
 * sender-login table (auth.sender_logins: "address login[,login...]"
 * lines), loaded by the master before the privilege drop and inherited
 * by smtpd (which is chrooted and could not read them). REL-3.
 * The scanner, which checks the header From (content/check_from_binding.c),
 * loads the sender-login table alone, before its own privilege drop.
 */
#ifndef MW_AUTH_AUTHDB_H
#define MW_AUTH_AUTHDB_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct auth_db;

/* NULL with the reason ("file:line: problem") in err. Without
 * auth.credentials the database is empty: every login fails. */
struct auth_db *auth_db_load(const struct config *c, char *err, size_t errlen);
void auth_db_free(struct auth_db *db);
/* The sender-login table only, no credentials: for a process that
 * checks sender addresses but has no business holding password hashes
 * (the scanner, SEC-1). auth_db_check on it always fails. */
struct auth_db *auth_db_load_senders(const struct config *c, char *err, size_t errlen);

/* Read one table as auth_db_load would (the sender-login table if
 * senders, else credentials) and forget it: false with the reason
 * ("file:line: problem") in err. For check-config and the master's
 * preflight, so each problem names its configuration key. */
bool auth_db_check_table(const char *path, bool senders, char *err, size_t errlen);

/* Does password match the user's hash? crypt(3) runs for unknown users too
 * (against a dummy hash) and hashes compare in constant time, so the time
 * taken does not tell whether a user exists. Takes tens of milliseconds
 * (yescrypt is slow on purpose): smtpd runs it on a worker thread, never
 * on its event loop; thread-safe. */
bool auth_db_check(const struct auth_db *db, const char *user, const char *password);

/* REL-3: may login send with the envelope sender address? The null sender
 * may always be used. An address listed in the sender-login table may be
 * used by the logins listed for it only; any other address by the login
 * that is the address itself ("user@domain"), or, for a login without "@",
 * by login@ any local domain. Comparison ignores case. */
bool auth_db_sender_ok(const struct auth_db *db, const struct config *c, const char *login,
		       const char *sender);

/* A crypt(3) hash of password with a fresh salt (yescrypt unless prefix
 * names another method, e.g. "$2b$"). NULL on error. Caller frees. */
char *auth_hash_password(const char *password, const char *prefix);

#endif
