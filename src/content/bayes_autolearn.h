/*
 * Bayes auto-learning (issue 11, scan.bayes_autolearn): which class, if
 * any, a scanned message is learnt as. Its score is every symbol's points
 * — smtpd's and the content checks' — except Bayes' own, so that Bayes
 * does not teach itself what it already believes (SpamAssassin leaves
 * its BAYES_* rules out of the auto-learn score for the same reason).
 * Pure logic: the scanner sends the sample to the master, which applies
 * the samples in a batch (master/bayes_learner.h).
 */
#ifndef MW_CONTENT_BAYES_AUTOLEARN_H
#define MW_CONTENT_BAYES_AUTOLEARN_H

#include "ipc/txn.h"
#include "scan/policy.h"

enum bayes_autolearn_class {
	BAYES_AUTOLEARN_NONE,  /* neither clear spam nor clear ham */
	BAYES_AUTOLEARN_SPAM,
	BAYES_AUTOLEARN_HAM,
};

/* The score the thresholds are compared with, in hundredths. */
int bayes_autolearn_score(const struct ipc_scan_request *req, const struct ipc_scan_result *res);

/* NONE when auto-learning is off. */
enum bayes_autolearn_class bayes_autolearn_judge(const struct scan_autolearn *al, const struct ipc_scan_request *req,
						 const struct ipc_scan_result *res);

#endif
