/*
 * Compiled Hyperscan databases kept on disk (issue 11, fast matching), so
 * that loading the same rules again (a reload, the next `mailwarden scan`)
 * costs a read instead of a compile. A file per database, named by the
 * SHA-256 of what went into it (Hyperscan's version, the CPU features it
 * was built for, each pattern's text and flags): a changed rule makes a new
 * name, never a stale hit. Only for content/rules_fast.c.
 */
#ifndef MW_CONTENT_RULES_FAST_CACHE_H
#define MW_CONTENT_RULES_FAST_CACHE_H

#include <hs/hs.h>
#include <stdbool.h>
#include <stddef.h>

#define FAST_CACHE_KEY_HEX 65

/* The key of a database of n patterns (expressions[i] with flags[i]). */
void rules_fast_cache_key(const char *const *expressions, const unsigned *flags, size_t n,
			  char key[FAST_CACHE_KEY_HEX]);

/* The database stored under key in dir, with the one-byte tier of each of
 * its n patterns (as rules_fast_cache_save wrote them) into tiers[0..n).
 * NULL if there is none, or the file is not exactly such a record (then
 * the caller compiles: a damaged file costs time, never a wrong answer). */
hs_database_t *rules_fast_cache_load(const char *dir, const char *key, unsigned char *tiers, size_t n);

/* Store db and tiers[0..n) under key in dir (made if missing), written to
 * a temporary file and renamed into place so that a reader never sees half
 * a file. false if it could not be written (the rules run all the same). */
bool rules_fast_cache_save(const char *dir, const char *key, const hs_database_t *db, const unsigned char *tiers,
			   size_t n);

/* Remove the databases in dir whose key is not one of keys[0..n) (made
 * for rules since changed): a daily rule update would otherwise leave
 * megabytes behind every day. */
void rules_fast_cache_prune(const char *dir, const char (*keys)[FAST_CACHE_KEY_HEX], size_t n);

#endif
