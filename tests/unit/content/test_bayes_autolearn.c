/* Which messages Bayes auto-learns (issue 11, scan.bayes_autolearn):
 * smtpd's and the content checks' points count, Bayes' own do not; the
 * thresholds are inclusive; off means never. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "content/bayes_autolearn.h"

static struct ipc_scan_request req;
static struct ipc_scan_result res;
static const struct scan_autolearn al = { .on = true, .spam = 1200, .ham = 10, .interval = 600 };

static void add(struct ipc_symbol *syms, uint32_t *n, const char *name, int points)
{
	snprintf(syms[*n].name, sizeof(syms[*n].name), "%s", name);
	syms[(*n)++].points = points;
}

Test(bayes_autolearn, bayes_points_are_left_out)
{
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	add(req.symbols, &req.n_symbols, "RDNS_NONE", 100);
	add(res.symbols, &res.n_symbols, "BAYES_99", 380);
	add(res.symbols, &res.n_symbols, "BAYES_999", 20);
	add(res.symbols, &res.n_symbols, "FUZZY_VIAGRA", 1050);
	cr_assert_eq(bayes_autolearn_score(&req, &res), 1150);
	cr_assert_eq(bayes_autolearn_judge(&al, &req, &res), BAYES_AUTOLEARN_NONE);
	add(res.symbols, &res.n_symbols, "HTML_MESSAGE", 50);
	cr_assert_eq(bayes_autolearn_judge(&al, &req, &res), BAYES_AUTOLEARN_SPAM);  /* 12 exactly */
}

Test(bayes_autolearn, ham_and_off)
{
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	add(res.symbols, &res.n_symbols, "BAYES_00", -150);
	cr_assert_eq(bayes_autolearn_judge(&al, &req, &res), BAYES_AUTOLEARN_HAM);
	add(res.symbols, &res.n_symbols, "HTML_MESSAGE", 10);
	cr_assert_eq(bayes_autolearn_judge(&al, &req, &res), BAYES_AUTOLEARN_HAM);  /* 0.1 exactly */
	add(res.symbols, &res.n_symbols, "HTML_MESSAGE", 1);
	cr_assert_eq(bayes_autolearn_judge(&al, &req, &res), BAYES_AUTOLEARN_NONE);
	const struct scan_autolearn off = { 0 };
	cr_assert_eq(bayes_autolearn_judge(&off, &req, &res), BAYES_AUTOLEARN_NONE);
}
