/*
 * One message going through the content checks (content/check.h): the
 * policy, the envelope, what the checks found, the message as a check
 * replaced it, and the MIME view they share. The scanner process runs a
 * job per message on its worker threads (scanner.c); `mailwarden scan`
 * runs one per file, without a gateway (scancmd.c). A job is used by one
 * thread at a time.
 */
#ifndef MW_CONTENT_JOB_H
#define MW_CONTENT_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "content/authdns.h"
#include "content/bayes.h"
#include "content/dkimlib.h"
#include "content/mime.h"
#include "content/salvage.h"
#include "content/uri.h"
#include "ipc/txn.h"

struct auth_db;
struct rule_set;
struct bayes_model;
struct config;
struct scan_direction;
struct signkeys;
struct yara_engine;

/* Parts stripped per message; more, and the whole message is held. */
#define CONTENT_STRIP_MAX 16

struct content_job {
	/* Set by the caller before content_job_run(). */
	const struct config *config;
	const struct auth_db *senders;     /* REL-3's sender-login table; NULL: none */
	const struct rule_set *rules;      /* scan.rules (content/rules.h); NULL: none */
	const struct bayes_model *bayes;   /* state_dir/bayes.db as learnt (content/bayes.h); NULL: none */
	const struct scan_direction *dir;  /* whose checks and policy apply */
	const struct scan_direction *rdir; /* SCAN-11: the rehearsed level's, judged beside (NULL: none) */
	/* The DNS records DKIM and DMARC need, fetched before the run; NULL:
	 * none fetched (the dkim and dmarc checks then stay silent). */
	const struct authdns *authdns;
	const struct signkeys *dkim_keys;  /* scan.dkim_sign's keys (content/signkeys.h); NULL: none */
	const struct yara_engine *yara;    /* scan.yara's rules (content/yara.h); NULL: none */
	struct ipc_scan_request req;       /* envelope, login, smtpd's symbols; req.size = the message's */
	/* Optional: told of every hit (check, symbol, points as scored in
	 * hundredths, whether the check's policy refuses, the check's detail). */
	void (*on_hit)(void *arg, const char *check, const char *symbol, int points, bool refuse, const char *detail);
	void *on_hit_arg;

	/* The outcome. */
	struct ipc_scan_result result;     /* symbols, refusal; rewritten: see rewrite */
	char *rewrite;                     /* the message as a check replaced it, or NULL */
	size_t rewrite_len;
	/* scan.bayes_autolearn: the tokens the bayes check took and the
	 * identity to learn them under (bayes_autolearn.h judges the class). */
	struct bayes_tokens learn_tokens;
	char learn_id[512];

	/* The strip action (SCAN-8): the parts marked by hits, replaced by
	 * notices once no more strip-capable checks run; stripped: the
	 * rewrite is a stripped message (the queue holds the original). */
	struct content_strip_mark {
		size_t part;
		char reason[200];
	} strip[CONTENT_STRIP_MAX];
	size_t n_strip;
	bool stripped;

	/* The message as received, for the checks that must see it whatever
	 * a rewrite made of it (the DKIM signature a release needs). */
	const char *original;
	size_t original_len;

	/* Private to job.c. */
	int part;                          /* content_job_part's, -1: none */
	size_t check;                      /* the check running now */
	bool tempfailed;                   /* result.reply is content_tempfail's 4xx */
	struct mime_message mime;
	bool mime_parsed;
	struct salvage salvage;            /* of the message, when salvaged */
	bool salvaged;
	struct uri_list uris;              /* of the MIME view, when uris_found */
	bool uris_found;
	struct dkimlib_verdict dkim;       /* of the message as received, when dkim_verified */
	bool dkim_verified;
};

/* Run every check the policy switches on over msg[0..len); a check after
 * one that replaced the message sees the replacement. */
void content_job_run(struct content_job *job, const char *msg, size_t len);
/* Free what the run allocated (the rewrite, the MIME view). */
void content_job_clear(struct content_job *job);

#endif
