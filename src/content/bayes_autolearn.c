/*
 * See bayes_autolearn.h.
 */
#include "content/bayes_autolearn.h"

#include <limits.h>
#include <string.h>

static bool is_bayes(const char *symbol)
{
	return strncmp(symbol, "BAYES_", 6) == 0;
}

static long long add(long long sum, const struct ipc_symbol *syms, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!is_bayes(syms[i].name))
			sum += syms[i].points;
	return sum;
}

int bayes_autolearn_score(const struct ipc_scan_request *req, const struct ipc_scan_result *res)
{
	long long sum = add(add(0, req->symbols, req->n_symbols), res->symbols, res->n_symbols);
	return sum > INT_MAX ? INT_MAX : sum < INT_MIN ? INT_MIN : (int)sum;
}

enum bayes_autolearn_class bayes_autolearn_judge(const struct scan_autolearn *al, const struct ipc_scan_request *req,
						 const struct ipc_scan_result *res)
{
	if (!al->on)
		return BAYES_AUTOLEARN_NONE;
	int score = bayes_autolearn_score(req, res);
	return score >= al->spam ? BAYES_AUTOLEARN_SPAM : score <= al->ham ? BAYES_AUTOLEARN_HAM : BAYES_AUTOLEARN_NONE;
}
