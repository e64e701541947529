/*
 * Credentials and sender logins: see authdb.h.
 */
#include "auth/authdb.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "config/config.h"
#include "util/alloc.h"

#define AUTH_LINE_MAX 1024
#define AUTH_ENTRIES_MAX 100000

struct auth_user {
	char *name;
	char *hash;
};

struct sender_login {
	char *address;
	char *logins;       /* ",a,b," for a plain substring test */
};

struct auth_db {
	char *dummy;        /* a hash of a random password: unknown users cost the same */
	struct auth_user *users;
	size_t n_users;
	struct sender_login *senders;
	size_t n_senders;
};

void auth_db_free(struct auth_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n_users; i++) {
		free(db->users[i].name);
		OPENSSL_cleanse(db->users[i].hash, strlen(db->users[i].hash));
		free(db->users[i].hash);
	}
	for (size_t i = 0; i < db->n_senders; i++) {
		free(db->senders[i].address);
		free(db->senders[i].logins);
	}
	free(db->users);
	free(db->senders);
	free(db->dummy);
	free(db);
}

static bool printable_word(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

/* Reads path line by line; each non-empty, non-comment line goes to fn. */
static bool read_table(const char *path, struct auth_db *db, char *err, size_t errlen,
		       bool (*fn)(struct auth_db *db, char *line, char *why, size_t whylen))
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	char line[AUTH_LINE_MAX + 2];
	unsigned lineno = 0;
	bool ok = true;
	while (ok && fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			ok = false;
			break;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		char why[128];
		if (db->n_users + db->n_senders >= AUTH_ENTRIES_MAX || !fn(db, line, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno,
				 db->n_users + db->n_senders >= AUTH_ENTRIES_MAX ? "too many entries" : why);
			ok = false;
		}
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	return ok;
}

static bool add_user(struct auth_db *db, char *line, char *why, size_t whylen)
{
	char *colon = strchr(line, ':');
	if (!colon || !printable_word(line, (size_t)(colon - line)) || !printable_word(colon + 1, strlen(colon + 1)) ||
	    colon[1] != '$') {
		snprintf(why, whylen, "expected user:hash (a crypt(3) hash starting with '$')");
		return false;
	}
	db->users = xreallocarray(db->users, db->n_users + 1, sizeof(*db->users));
	db->users[db->n_users].name = xstrndup(line, (size_t)(colon - line));
	db->users[db->n_users].hash = xstrdup(colon + 1);
	db->n_users++;
	return true;
}

static bool add_sender(struct auth_db *db, char *line, char *why, size_t whylen)
{
	size_t alen = strcspn(line, " \t");
	char *rest = line + alen;
	rest += strspn(rest, " \t");
	if (!printable_word(line, alen) || !memchr(line, '@', alen) || !printable_word(rest, strlen(rest))) {
		snprintf(why, whylen, "expected 'address login[,login...]'");
		return false;
	}
	db->senders = xreallocarray(db->senders, db->n_senders + 1, sizeof(*db->senders));
	db->senders[db->n_senders].address = xstrndup(line, alen);
	size_t n = strlen(rest) + 3;
	char *logins = xmalloc(n);
	snprintf(logins, n, ",%s,", rest);
	db->senders[db->n_senders].logins = logins;
	db->n_senders++;
	return true;
}

struct auth_db *auth_db_load(const struct config *c, char *err, size_t errlen)
{
	struct auth_db *db = xcalloc(1, sizeof(*db));
	unsigned char random[24];
	char secret[64];
	if (RAND_bytes(random, sizeof(random)) != 1) {
		snprintf(err, errlen, "no random numbers for the dummy hash");
		auth_db_free(db);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(random); i++)
		snprintf(secret + 2 * i, 3, "%02x", random[i]);
	db->dummy = auth_hash_password(secret, NULL);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (!db->dummy) {
		snprintf(err, errlen, "crypt(3) cannot make yescrypt hashes");
		auth_db_free(db);
		return NULL;
	}
	if ((c->auth.credentials && !read_table(c->auth.credentials, db, err, errlen, add_user)) ||
	    (c->auth.sender_logins && !read_table(c->auth.sender_logins, db, err, errlen, add_sender))) {
		auth_db_free(db);
		return NULL;
	}
	return db;
}

struct auth_db *auth_db_load_senders(const struct config *c, char *err, size_t errlen)
{
	struct auth_db *db = xcalloc(1, sizeof(*db));
	if (c->auth.sender_logins && !read_table(c->auth.sender_logins, db, err, errlen, add_sender)) {
		auth_db_free(db);
		return NULL;
	}
	return db;
}

bool auth_db_check_table(const char *path, bool senders, char *err, size_t errlen)
{
	struct auth_db *db = xcalloc(1, sizeof(*db));
	bool ok = read_table(path, db, err, errlen, senders ? add_sender : add_user);
	auth_db_free(db);
	return ok;
}

bool auth_db_check(const struct auth_db *db, const char *user, const char *password)
{
	if (!db->dummy)  /* a senders-only database (auth_db_load_senders) */
		return false;
	/* Per call: checks run in several worker threads at once. */
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	const char *hash = db->dummy;
	bool known = false;
	for (size_t i = 0; i < db->n_users; i++)
		if (strcmp(db->users[i].name, user) == 0) {
			hash = db->users[i].hash;
			known = true;
		}
	const char *out = crypt_rn(password, hash, data, sizeof(*data));
	size_t hlen = strlen(hash);
	bool match = out && out[0] == '$' && strlen(out) == hlen && CRYPTO_memcmp(out, hash, hlen) == 0;
	OPENSSL_cleanse(data, sizeof(*data));
	free(data);
	return known && match;
}

bool auth_db_sender_ok(const struct auth_db *db, const struct config *c, const char *login,
		       const char *sender)
{
	if (sender[0] == '\0')
		return true;
	for (size_t i = 0; i < db->n_senders; i++) {
		if (strcasecmp(db->senders[i].address, sender) != 0)
			continue;
		/* Listed: only the logins named for it (a login with a comma
		 * could match two neighbours of the list). */
		char needle[300];
		snprintf(needle, sizeof(needle), ",%s,", login);
		return !strchr(login, ',') && strlen(login) + 2 < sizeof(needle) &&
		       strstr(db->senders[i].logins, needle) != NULL;
	}
	if (strchr(login, '@'))
		return strcasecmp(login, sender) == 0;
	const char *at = strrchr(sender, '@');
	size_t llen = strlen(login);
	return at && (size_t)(at - sender) == llen && strncasecmp(sender, login, llen) == 0 &&
	       config_is_local_domain(c, at + 1, strlen(at + 1));
}

char *auth_hash_password(const char *password, const char *prefix)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	char *result = NULL;
	if (crypt_gensalt_rn(prefix ? prefix : "$y$", 0, NULL, 0, salt, sizeof(salt))) {
		const char *h = crypt_rn(password, salt, data, sizeof(*data));
		if (h && h[0] == '$')
			result = xstrdup(h);
	}
	OPENSSL_cleanse(data, sizeof(*data));
	free(data);
	return result;
}
