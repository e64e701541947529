/*
 * Meta rules (SpamAssassin's "meta NAME expression"): boolean and
 * arithmetic expressions over other rules' hit counts, e.g.
 * "(__A && !__B) || (__C + __D + __E > 1)". Parsed with the usual
 * precedence (unary ! and -, then * /, + -, comparisons, ==/!=, &&, ||)
 * into postfix terms, evaluated on a small stack. Then the whole set is
 * settled: a meta rule runs only if every rule it names runs; cycles are
 * left out; metas are ordered after what they need.
 */
#include "content/rules_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

struct pending_meta {
	size_t rule;
	char *expr;
	char *file;
	int line;
};

void rules_define_meta(struct rule_set *rs, struct rule *r, const char *expr, const char *file, int line)
{
	size_t idx = (size_t)(r - rs->rules);
	if (rs->n_pending == rs->cap_pending) {
		rs->cap_pending = rs->cap_pending ? rs->cap_pending * 2 : 64;
		rs->pending = xreallocarray(rs->pending, rs->cap_pending, sizeof(*rs->pending));
	}
	/* A later definition replaces an earlier one: the last pending wins. */
	rs->pending[rs->n_pending++] = (struct pending_meta){ idx, xstrdup(expr), xstrdup(file), line };
	free(r->meta);
	r->meta = NULL;
	r->n_meta = 0;
	if (r->re)
		pcre2_code_free(r->re);
	r->re = NULL;
	r->kind = RULE_META;
	r->defined = true;
}

/* --- parsing ------------------------------------------------------------------ */

struct parser {
	const struct rule_set *rs;
	const char *p;
	struct meta_term out[META_TERMS_MAX];
	size_t n;
	const char *error;
	int depth;
};

static void emit(struct parser *ps, struct meta_term t)
{
	if (ps->n == META_TERMS_MAX) {
		ps->error = "expression too long";
		return;
	}
	ps->out[ps->n++] = t;
}

static void skip_space(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static bool take(struct parser *ps, const char *tok)
{
	skip_space(ps);
	size_t n = strlen(tok);
	if (strncmp(ps->p, tok, n) != 0)
		return false;
	/* "!" must not take the first character of "!=", nor "<" of "<=". */
	if (n == 1 && (tok[0] == '!' || tok[0] == '<' || tok[0] == '>' || tok[0] == '=') && ps->p[1] == '=')
		return false;
	ps->p += n;
	return true;
}

static void parse_or(struct parser *ps);

static void parse_primary(struct parser *ps)
{
	skip_space(ps);
	if (ps->error)
		return;
	if (++ps->depth > 64) {
		ps->error = "expression nested too deep";
		return;
	}
	if (take(ps, "(")) {
		parse_or(ps);
		if (!take(ps, ")"))
			ps->error = "missing )";
	} else if (take(ps, "!")) {
		parse_primary(ps);
		emit(ps, (struct meta_term){ .op = M_NOT });
	} else if (take(ps, "-")) {
		parse_primary(ps);
		emit(ps, (struct meta_term){ .op = M_NEG });
	} else if (isdigit((unsigned char)*ps->p) || *ps->p == '.') {
		char *end;
		double v = strtod(ps->p, &end);
		ps->p = end;
		emit(ps, (struct meta_term){ .op = M_NUM, .num = v });
	} else if (isalpha((unsigned char)*ps->p) || *ps->p == '_') {
		char name[RULE_NAME_MAX + 1];
		size_t n = 0;
		while ((isalnum((unsigned char)*ps->p) || *ps->p == '_') && n < RULE_NAME_MAX)
			name[n++] = *ps->p++;
		name[n] = '\0';
		size_t idx = rules_find(ps->rs, name);
		if (idx == SIZE_MAX)  /* never defined (a plugin's eval we lack): not hit */
			emit(ps, (struct meta_term){ .op = M_NUM, .num = 0 });
		else
			emit(ps, (struct meta_term){ .op = M_RULE, .rule = idx });
	} else {
		ps->error = "unexpected character";
	}
	ps->depth--;
}

/* One binary level: operands from next, joined by any of ops. */
struct level {
	const char *tok[4];
	enum meta_op op[4];
};

static void parse_level(struct parser *ps, int lvl);

static const struct level levels[] = {
	{ { "||" }, { M_OR } },
	{ { "&&" }, { M_AND } },
	{ { "==", "!=" }, { M_EQ, M_NE } },
	{ { ">=", "<=", ">", "<" }, { M_GE, M_LE, M_GT, M_LT } },
	{ { "+", "-" }, { M_ADD, M_SUB } },
	{ { "*", "/" }, { M_MUL, M_DIV } },
};
#define N_LEVELS (sizeof(levels) / sizeof(levels[0]))

static void parse_next(struct parser *ps, int lvl)
{
	if (lvl + 1 < (int)N_LEVELS)
		parse_level(ps, lvl + 1);
	else
		parse_primary(ps);
}

static void parse_level(struct parser *ps, int lvl)
{
	parse_next(ps, lvl);
	for (bool more = true; more && !ps->error;) {
		more = false;
		for (int i = 0; i < 4 && levels[lvl].tok[i]; i++) {
			if (take(ps, levels[lvl].tok[i])) {
				parse_next(ps, lvl);
				emit(ps, (struct meta_term){ .op = levels[lvl].op[i] });
				more = true;
				break;
			}
		}
	}
}

static void parse_or(struct parser *ps)
{
	parse_level(ps, 0);
}

/* --- evaluation ------------------------------------------------------------------ */

double rules_meta_eval(const struct rule *r, const unsigned *hits)
{
	double st[META_TERMS_MAX];
	size_t sp = 0;
	for (size_t i = 0; i < r->n_meta; i++) {
		const struct meta_term *t = &r->meta[i];
		if (t->op == M_RULE) {
			st[sp++] = hits[t->rule];
			continue;
		}
		if (t->op == M_NUM) {
			st[sp++] = t->num;
			continue;
		}
		if (t->op == M_NOT || t->op == M_NEG) {
			st[sp - 1] = t->op == M_NOT ? !st[sp - 1] : -st[sp - 1];
			continue;
		}
		double b = st[--sp], a = st[sp - 1], v = 0;
		switch (t->op) {
		case M_AND: v = a && b; break;
		case M_OR: v = a || b; break;
		case M_ADD: v = a + b; break;
		case M_SUB: v = a - b; break;
		case M_MUL: v = a * b; break;
		case M_DIV: v = b != 0 ? a / b : 0; break;
		case M_GT: v = a > b; break;
		case M_GE: v = a >= b; break;
		case M_LT: v = a < b; break;
		case M_LE: v = a <= b; break;
		case M_EQ: v = a == b; break;
		case M_NE: v = a != b; break;
		default: break;
		}
		st[sp - 1] = v;
	}
	return sp == 1 ? st[0] : 0;
}

/* --- settling the set -------------------------------------------------------------- */

static void compile_pending(struct rule_set *rs)
{
	for (size_t i = 0; i < rs->n_pending; i++) {
		struct pending_meta *pm = &rs->pending[i];
		struct rule *r = &rs->rules[pm->rule];
		bool superseded = false;
		for (size_t j = i + 1; j < rs->n_pending; j++)
			superseded |= rs->pending[j].rule == pm->rule;
		if (!superseded && r->kind == RULE_META) {
			struct parser ps = { .rs = rs, .p = pm->expr };
			parse_or(&ps);
			skip_space(&ps);
			if (!ps.error && *ps.p)
				ps.error = "unexpected text after the expression";
			if (ps.error) {
				rules_broken_line(rs, pm->file, pm->line, "%s: %s", r->name, ps.error);
				r->defined = false;
			} else {
				r->meta = xreallocarray(NULL, ps.n, sizeof(*r->meta));
				memcpy(r->meta, ps.out, ps.n * sizeof(*r->meta));
				r->n_meta = ps.n;
			}
		}
		free(pm->expr);
		free(pm->file);
	}
	free(rs->pending);
	rs->pending = NULL;
	rs->n_pending = rs->cap_pending = 0;
}

/* Depth-first: a rule is active if it is defined and not switched off;
 * post-order gives the order (what a meta names runs before it). A meta
 * naming a rule that does not run (a plugin we lack, a typo) still runs
 * and counts that rule as not hit, as SpamAssassin 4 does: the rule sets
 * are tuned that way ("!__DKIM_EXISTS" is true where DKIM is not
 * checked). Only a meta in a cycle is left out. */
static bool settle(struct rule_set *rs, size_t i, unsigned char *state)
{
	struct rule *r = &rs->rules[i];
	if (state[i] == 2)
		return r->active;
	if (state[i] == 1)
		return false;  /* a cycle: left out */
	state[i] = 1;
	/* "score X 0" switches a rule off (SpamAssassin's convention); a
	 * sub-rule "__X" has no score of its own and runs for the metas. */
	bool off = r->has_score && !r->points[0] && !r->points[1] && !r->points[2] && !r->points[3] &&
		   strncmp(r->name, "__", 2) != 0;
	bool ok = r->defined && !off && r->kind != RULE_NONE;
	for (size_t t = 0; ok && t < r->n_meta; t++)
		if (r->meta[t].op == M_RULE && !settle(rs, r->meta[t].rule, state) &&
		    state[r->meta[t].rule] == 1)
			ok = false;  /* the rule named is one we are settling: a cycle */
	state[i] = 2;
	r->active = ok;
	if (ok)
		rs->order[rs->n_active++] = i;
	return ok;
}

static bool scored(const struct rule *r)
{
	return strncmp(r->name, "__", 2) != 0 && (r->points[0] || r->points[1] || r->points[2] || r->points[3]);
}

/* A rule whose answer reaches no score (a sub-rule "__X" no scored meta
 * names, directly or through other metas) cannot change a verdict: it is
 * not run. Debian's set has 122 of them, among them evals that cost 40 µs
 * a message. Metas come after what they name in the order, so one pass
 * backwards hands "needed" down. */
static void mark_needed(struct rule_set *rs)
{
	for (size_t k = 0; k < rs->n_active; k++) {
		struct rule *r = &rs->rules[rs->order[k]];
		r->needed = scored(r);
	}
	for (size_t k = rs->n_active; k-- > 0;) {
		const struct rule *r = &rs->rules[rs->order[k]];
		for (size_t t = 0; r->needed && t < r->n_meta; t++)
			if (r->meta[t].op == M_RULE)
				rs->rules[r->meta[t].rule].needed = rs->rules[r->meta[t].rule].active;
	}
}

void rules_finish(struct rule_set *rs)
{
	compile_pending(rs);
	unsigned char *state = xcalloc(rs->n ? rs->n : 1, 1);
	rs->order = xreallocarray(NULL, rs->n ? rs->n : 1, sizeof(*rs->order));
	for (size_t i = 0; i < rs->n; i++)
		settle(rs, i, state);
	free(state);
	mark_needed(rs);
}
