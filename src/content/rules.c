/*
 * See rules.h. Loading: the rule files' lines into struct rule (one per
 * name: a score or describe line may come before its rule), regexes
 * compiled with PCRE2 (JIT where it can), meta expressions compiled to
 * postfix. Matching is in rules_match.c.
 */
#include "content/rules_impl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/alloc.h"

#define INCLUDE_DEPTH_MAX 8
#define LINE_MAX_LEN 8192
#define COND_DEPTH_MAX 32

/* --- the table of rules by name ---------------------------------------------- */

static unsigned long name_hash(const char *s)
{
	unsigned long h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static void table_grow(struct rule_set *rs)
{
	size_t cap = rs->table_cap ? rs->table_cap * 2 : 1024;
	size_t *table = xcalloc(cap, sizeof(*table));
	for (size_t i = 0; i < rs->n; i++) {
		size_t h = name_hash(rs->rules[i].name) & (cap - 1);
		while (table[h])
			h = (h + 1) & (cap - 1);
		table[h] = i + 1;
	}
	free(rs->table);
	rs->table = table;
	rs->table_cap = cap;
}

/* Index of the rule named name, or SIZE_MAX. */
size_t rules_find(const struct rule_set *rs, const char *name)
{
	if (!rs->table_cap)
		return SIZE_MAX;
	for (size_t h = name_hash(name) & (rs->table_cap - 1); rs->table[h]; h = (h + 1) & (rs->table_cap - 1))
		if (strcmp(rs->rules[rs->table[h] - 1].name, name) == 0)
			return rs->table[h] - 1;
	return SIZE_MAX;
}

/* The rule named name, made if new (with SpamAssassin's default score:
 * 1, or 0 for a sub-rule "__X", 0.01 for a test rule "T_X"; negative for
 * a "nice" one, set_tflags). */
static struct rule *rule_of(struct rule_set *rs, const char *name)
{
	size_t i = rules_find(rs, name);
	if (i != SIZE_MAX)
		return &rs->rules[i];
	if ((rs->n + 1) * 2 > rs->table_cap)
		table_grow(rs);
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->rules = xreallocarray(rs->rules, rs->cap, sizeof(*rs->rules));
	}
	struct rule *r = &rs->rules[rs->n];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	int points = strncmp(name, "__", 2) == 0 ? 0 : strncmp(name, "T_", 2) == 0 ? 1 : 100;
	for (size_t set = 0; set < 4; set++)
		r->points[set] = points;
	size_t h = name_hash(name) & (rs->table_cap - 1);
	while (rs->table[h])
		h = (h + 1) & (rs->table_cap - 1);
	rs->table[h] = ++rs->n;
	return r;
}

/* --- notes ------------------------------------------------------------------- */

struct source {
	const char *file;
	int line;
};

void rules_noted(struct rule_set *rs, const char *file, int line, const char *fmt, ...)
{
	rs->unsupported++;
	if (rs->n_notes >= RULES_NOTES_MAX)
		return;
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	char *s = xmalloc(strlen(file) + strlen(text) + 24);
	if (file[0])
		sprintf(s, "%s:%d: %s", file, line, text);
	else
		sprintf(s, "%s", text);  /* the text names its place itself */
	rs->notes[rs->n_notes++] = s;
}

void rules_broken_line(struct rule_set *rs, const char *file, int line, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rules_noted(rs, file, line, "%s", text);
	if (rs->n_broken < RULES_BROKEN_MAX) {
		rs->broken[rs->n_broken].file = xstrdup(file);
		rs->broken[rs->n_broken].line = line;
		rs->broken[rs->n_broken].why = xstrdup(text);
	}
	rs->n_broken++;
}

/* A file or directory read, stamped as it was when opened (fd). */
static void source_read(struct rule_set *rs, const char *path, int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return;  /* then it is not watched; it was read all the same */
	rs->sources = xreallocarray(rs->sources, rs->n_sources + 1, sizeof(*rs->sources));
	rs->sources[rs->n_sources++] = (struct rules_source){ xstrdup(path), file_stamp_of(&st) };
}

/* --- regexes ----------------------------------------------------------------- */

/* A Perl match operator: /re/flags, m{re}flags, m!re!flags ... into a
 * PCRE2 pattern. NULL (why set) if it is not one. The pattern's text and
 * options go to *pattern and *options too, for the Hyperscan databases
 * (rules_fast.c). */
pcre2_code *rules_compile_regex(const char *text, char **pattern, uint32_t *options_out, const char **why)
{
	const char *p = text;
	char open = *p, close;
	if (open == 'm' && p[1] && !isalnum((unsigned char)p[1]) && !isspace((unsigned char)p[1]))
		open = *++p;
	else if (open != '/') {
		*why = "not a /regex/";
		return NULL;
	}
	close = open == '{' ? '}' : open == '(' ? ')' : open == '[' ? ']' : open == '<' ? '>' : open;
	const char *start = ++p;
	const char *end = strrchr(start, close);
	if (!end) {
		*why = "regex not closed";
		return NULL;
	}
	/* Bytes, as SpamAssassin matches by default: rule files hold Latin-1
	 * bytes in patterns, and the text is UTF-8 that byte patterns match. */
	uint32_t options = 0;
	for (const char *f = end + 1; *f && !isspace((unsigned char)*f); f++) {
		switch (*f) {
		case 'i': options |= PCRE2_CASELESS; break;
		case 'm': options |= PCRE2_MULTILINE; break;
		case 's': options |= PCRE2_DOTALL; break;
		case 'x': options |= PCRE2_EXTENDED; break;
		case 'g': case 'o': break;  /* no meaning for a test */
		default:
			*why = "unknown regex modifier";
			return NULL;
		}
	}
	int code;
	PCRE2_SIZE at;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)start, (PCRE2_SIZE)(end - start), options, &code, &at, NULL);
	if (!re) {
		static __thread char msg[160];
		PCRE2_UCHAR buf[120];
		pcre2_get_error_message(code, buf, sizeof(buf));
		snprintf(msg, sizeof(msg), "regex does not compile: %s (at %zu)", (char *)buf, (size_t)at);
		*why = msg;
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  /* interpreted if JIT is not available */
	*pattern = xstrndup(start, (size_t)(end - start));
	*options_out = options;
	return re;
}

/* --- rule lines ---------------------------------------------------------------- */

/* Next word of *s (space-separated), NUL-terminated in place; "" at the end. */
static char *word(char **s)
{
	char *p = *s;
	while (isspace((unsigned char)*p))
		p++;
	char *w = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = '\0';
	*s = p;
	return w;
}

static char *rest(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool rule_name_ok(const char *name)
{
	if (!*name || strlen(name) > RULE_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

/* A new definition of r replaces the old one (later files override). */
static void rule_reset_test(struct rule *r)
{
	if (r->re)
		pcre2_code_free(r->re);
	r->re = NULL;
	free(r->regex);
	r->regex = NULL;
	free(r->pattern);
	r->pattern = NULL;
	free(r->prefilter);
	r->prefilter = NULL;
	r->re_options = 0;
	free(r->header);
	r->header = NULL;
	free(r->if_unset);
	r->if_unset = NULL;
	free(r->meta);
	r->meta = NULL;
	r->n_meta = 0;
	for (size_t i = 0; i < r->n_eval_args; i++)
		free(r->eval_args[i]);
	r->n_eval_args = 0;
	r->eval = NULL;
	r->exists = r->negate = false;  /* an earlier "exists:" must not turn a regex test into one */
	r->mode = HDR_DECODED;
	r->defined = false;
}

/* The comma after the argument at p, or NULL: a quoted argument ('a,b'
 * or "a,b", as regexes in eval arguments are) ends at its closing quote. */
static char *arg_end(char *p)
{
	if (*p == '\'' || *p == '"') {
		char *q = strchr(p + 1, *p);
		if (q)
			p = q;
	}
	return strchr(p, ',');
}

/* eval:name(arg, 'arg', "arg") -> one of our eval tests, or noted. */
static void define_eval_rule(struct rule_set *rs, const struct source *src, char *name, char *def)
{
	char *open = strchr(def, '('), *close = strrchr(def, ')');
	char *args[EVAL_ARGS_MAX];
	size_t n = 0;
	if (!open || !close || close < open) {
		rules_noted(rs, src->file, src->line, "%s: eval test without (arguments)", name);
		return;
	}
	*open = *close = '\0';
	char *fn = rest(def + 5);
	for (char *p = open + 1, *comma; *rest(p) && n < EVAL_ARGS_MAX; p = comma + 1) {
		comma = arg_end(rest(p));
		if (comma)
			*comma = '\0';
		char *a = rest(p);
		size_t len = strlen(a);
		if (len >= 2 && (a[0] == '\'' || a[0] == '"') && a[len - 1] == a[0]) {
			a[len - 1] = '\0';
			a++;
		}
		args[n++] = a;
		if (!comma)
			break;
	}
	const struct rules_eval *ev = rules_eval_find(fn, n);
	if (!ev) {
		rules_noted(rs, src->file, src->line, "%s: eval:%s not supported", name, fn);
		return;
	}
	if (ev->args_ok && !ev->args_ok((const char *const *)args, n)) {
		rules_noted(rs, src->file, src->line, "%s: eval:%s('%s') not supported", name, fn, n ? args[0] : "");
		return;
	}
	struct rule *r = rule_of(rs, name);
	rule_reset_test(r);
	r->kind = RULE_EVAL;
	r->eval = ev;
	for (size_t i = 0; i < n; i++)
		r->eval_args[i] = xstrdup(args[i]);
	r->n_eval_args = n;
	r->defined = true;
}

static bool define_regex_rule(struct rule_set *rs, const struct source *src, enum rule_kind kind, char *name,
			      char *def)
{
	if (strncmp(def, "eval:", 5) == 0) {
		define_eval_rule(rs, src, name, def);
		return false;  /* nothing more to set up for the caller */
	}
	const char *why = NULL;
	char *pattern = NULL;
	uint32_t options = 0;
	pcre2_code *re = rules_compile_regex(def, &pattern, &options, &why);
	if (!re) {
		rules_broken_line(rs, src->file, src->line, "%s: %s", name, why);
		return false;
	}
	struct rule *r = rule_of(rs, name);
	rule_reset_test(r);
	r->kind = kind;
	r->re = re;
	r->regex = xstrdup(def);
	r->pattern = pattern;
	r->re_options = options;
	r->defined = true;
	return true;
}

/* header NAME Header =~ /re/ [if-unset: X] | Header !~ /re/ | exists:Header */
static void define_header_rule(struct rule_set *rs, const struct source *src, char *name, char *def)
{
	if (strncmp(def, "eval:", 5) == 0) {
		define_eval_rule(rs, src, name, def);
		return;
	}
	if (strncmp(def, "exists:", 7) == 0) {
		struct rule *r = rule_of(rs, name);
		rule_reset_test(r);
		r->kind = RULE_HEADER;
		r->exists = true;
		r->header = xstrdup(rest(def + 7));
		r->defined = true;
		return;
	}
	char *hdr = word(&def);
	char *op = word(&def);
	if (strcmp(op, "=~") != 0 && strcmp(op, "!~") != 0) {
		rules_broken_line(rs, src->file, src->line, "%s: header test without =~ or !~", name);
		return;
	}
	char *unset = strstr(def, "[if-unset:");
	if (unset) {
		*unset = '\0';
		unset += strlen("[if-unset:");
		char *endb = strchr(unset, ']');
		if (endb)
			*endb = '\0';
	}
	enum header_mode mode = HDR_DECODED;
	char *colon = strchr(hdr, ':');
	if (colon) {
		*colon++ = '\0';
		if (strcmp(colon, "raw") == 0)
			mode = HDR_RAW;
		else if (strcmp(colon, "addr") == 0)
			mode = HDR_ADDR;
		else if (strcmp(colon, "name") == 0)
			mode = HDR_NAME;
		else {
			rules_noted(rs, src->file, src->line, "%s: header modifier :%s not supported", name, colon);
			return;
		}
	}
	if (!define_regex_rule(rs, src, RULE_HEADER, name, rest(def)))
		return;
	struct rule *r = rule_of(rs, name);
	r->header = xstrdup(hdr);
	r->mode = mode;
	r->negate = op[0] == '!';
	r->if_unset = unset ? xstrdup(rest(unset)) : NULL;
}

/* mimeheader NAME Field[:raw] =~ /re/ [if-unset: X] (or !~): a header
 * test on the header section of each MIME entity, the message's own
 * first (SpamAssassin's MIMEHeader plugin). Its other forms are noted. */
static void define_mimeheader_rule(struct rule_set *rs, const struct source *src, char *name, char *def)
{
	size_t field = strcspn(def, " \t");
	const char *colon = memchr(def, ':', field);
	if (strncmp(def, "eval:", 5) == 0 || strncmp(def, "exists:", 7) == 0 ||
	    (colon && ((size_t)(def + field - colon) != 4 || strncmp(colon, ":raw", 4) != 0))) {
		rules_noted(rs, src->file, src->line, "%s: mimeheader form not supported", name);
		return;
	}
	define_header_rule(rs, src, name, def);
	size_t i = rules_find(rs, name);
	if (i != SIZE_MAX && rs->rules[i].defined && rs->rules[i].kind == RULE_HEADER)
		rs->rules[i].kind = RULE_MIMEHEADER;
}

/* score NAME s1 [s2 s3 s4]: we run without network tests and (yet)
 * without Bayes, SpamAssassin's score set 0: the first value. */
/* One score in hundredths: "score X 0.001" (informational) still counts
 * 0.01; only 0 is 0. */
static int hundredths(double v)
{
	int h = (int)(v * 100 + (v < 0 ? -0.5 : 0.5));
	return h == 0 && v != 0 ? (v < 0 ? -1 : 1) : h;
}

/* score NAME s [s1 s2 s3]: one value for every score set, or four. */
static void set_score(struct rule_set *rs, const struct source *src, char *name, char *vals)
{
	double v[4];
	size_t n = 0;
	for (char *w; n < 4 && *(w = word(&vals));) {
		char *end;
		v[n] = strtod(w, &end);
		if (end == w || *end || v[n] < -1000 || v[n] > 1000) {
			rules_broken_line(rs, src->file, src->line, "%s: score is not a number", name);
			return;
		}
		n++;
	}
	if (n != 1 && n != 4) {
		rules_broken_line(rs, src->file, src->line, "%s: score needs one value or four", name);
		return;
	}
	struct rule *r = rule_of(rs, name);
	for (size_t i = 0; i < 4; i++)
		r->points[i] = hundredths(v[n == 4 ? i : 0]);
	r->has_score = true;
}

static void set_tflags(struct rule *r, char *flags)
{
	for (char *f; *(f = word(&flags));) {
		if (strcmp(f, "multiple") == 0)
			r->multiple = true;
		else if (strncmp(f, "maxhits=", 8) == 0)
			r->maxhits = (unsigned)strtoul(f + 8, NULL, 10);
		else if (strcmp(f, "nice") == 0 && !r->has_score)
			/* A rule that speaks for a message: without a score line its
			 * default is negative (-1, SpamAssassin's), not +1. */
			for (size_t set = 0; set < 4; set++)
				r->points[set] = -abs(r->points[set]);
		/* learn, userconf, noautolearn, publish...: nothing to do
		 * here; net neither: SpamAssassin runs such rules without network
		 * tests too (their DNS lookups are what it leaves out). */
	}
}

static void load_file(struct rule_set *rs, const char *path, int depth, char *err, size_t errlen);

/* "if" / "ifplugin" conditions: true only for what we have. */
static bool condition_true(const char *kind, const char *cond)
{
	if (strcmp(kind, "ifplugin") == 0) {
		char plugin[200];
		snprintf(plugin, sizeof(plugin), "%s", cond + strspn(cond, " \t"));
		plugin[strcspn(plugin, " \t\r\n")] = '\0';
		return rules_plugin_provided(plugin);  /* the tests of the others are not here */
	}
	/* if (version >= N): we read SpamAssassin 4.0's format. */
	const char *v = strstr(cond, "version");
	if (v && !strstr(cond, "can(") && !strstr(cond, "plugin(")) {
		const char *num = v + 7;
		while (*num && !isdigit((unsigned char)*num))
			num++;
		double need = strtod(num, NULL);
		if (strstr(cond, ">="))
			return 4.000000 >= need;
		if (strstr(cond, "<"))
			return 4.000000 < need;
	}
	return false;
}

struct cond_stack {
	bool active[COND_DEPTH_MAX + 1];
	int depth;
	char why[COND_DEPTH_MAX + 1][160];   /* the false condition at each depth, "file:line: ifplugin X" */
	size_t skipped[COND_DEPTH_MAX + 1];  /* rule lines under it */
};

static bool defines_rule(const char *kw)
{
	static const char *const kinds[] = { "header", "body", "rawbody", "full", "uri", "meta", "mimeheader" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kw, kinds[i]) == 0)
			return true;
	return false;
}

/* A line under a false condition: rules there are left out (for the
 * plugin we do not have); counted, and noted once per block at its end. */
static void skipped_by_condition(struct rule_set *rs, struct cond_stack *cs, const char *kw)
{
	if (defines_rule(kw))
		cs->skipped[cs->depth]++;
}

static bool outer_of(const struct cond_stack *cs)
{
	return cs->active[cs->depth - 1];
}

static void block_ended(struct rule_set *rs, struct cond_stack *cs)
{
	size_t n = cs->skipped[cs->depth];
	if (n && cs->why[cs->depth][0]) {
		rs->unsupported += n - 1;  /* rules_noted counts one */
		rules_noted(rs, "", 0, "%s: %zu rules left out", cs->why[cs->depth], n);
	}
	cs->skipped[cs->depth] = 0;
	cs->why[cs->depth][0] = '\0';
}

/* ifplugin / if / else / endif; true if the line was one of them. */
static bool conditional(struct rule_set *rs, const struct source *src, const char *kw, char *args,
			struct cond_stack *cs)
{
	bool outer = cs->active[cs->depth];
	if (strcmp(kw, "ifplugin") == 0 || strcmp(kw, "if") == 0) {
		if (cs->depth == COND_DEPTH_MAX) {
			rules_noted(rs, src->file, src->line, "conditionals nested too deep");
			return true;
		}
		cs->active[++cs->depth] = outer && condition_true(kw, args);
		cs->skipped[cs->depth] = 0;
		cs->why[cs->depth][0] = '\0';
		if (outer && !cs->active[cs->depth])
			snprintf(cs->why[cs->depth], sizeof(cs->why[0]), "%s:%d: %s %.100s", src->file, src->line, kw,
				 rest(args));
	} else if (strcmp(kw, "else") == 0) {
		if (cs->depth > 0) {
			block_ended(rs, cs);
			bool was = cs->active[cs->depth];
			cs->active[cs->depth] = outer_of(cs) && !was;
			if (outer_of(cs) && was)
				snprintf(cs->why[cs->depth], sizeof(cs->why[0]), "%s:%d: else", src->file, src->line);
		}
	} else if (strcmp(kw, "endif") == 0) {
		if (cs->depth > 0) {
			block_ended(rs, cs);
			cs->depth--;
		}
	} else {
		return false;
	}
	return true;
}

/* A line that configures something else than a rule (report templates,
 * lists for plugins we do not have, ...): counted per keyword, one note
 * per keyword with the first place it appeared. */
static void setting_ignored(struct rule_set *rs, const struct source *src, const char *kw)
{
	rs->ignored++;
	for (size_t i = 0; i < rs->n_settings; i++)
		if (strcmp(rs->settings[i].kw, kw) == 0) {
			rs->settings[i].count++;
			return;
		}
	if (rs->n_settings == RULES_SETTINGS_MAX)
		return;
	struct ignored_setting *st = &rs->settings[rs->n_settings++];
	snprintf(st->kw, sizeof(st->kw), "%s", kw);
	snprintf(st->first, sizeof(st->first), "%s:%d", src->file, src->line);
	st->count = 1;
}

static void parse_line(struct rule_set *rs, const struct source *src, const char *kw, char *line, int depth,
		       char *err, size_t errlen)
{
	if (strcmp(kw, "include") == 0) {
		char path[4096];
		const char *inc = rest(line);
		if (inc[0] == '/')
			snprintf(path, sizeof(path), "%s", inc);
		else {
			const char *slash = strrchr(src->file, '/');
			int dirlen = slash ? (int)(slash - src->file) : 1;
			snprintf(path, sizeof(path), "%.*s/%s", dirlen, slash ? src->file : ".", inc);
		}
		load_file(rs, path, depth + 1, err, errlen);
		return;
	}
	if (rules_replace_setting(rs, src->file, src->line, kw, line) ||
	    rules_freemail_setting(rs, src->file, src->line, kw, line) ||
	    rules_relay_setting(rs, src->file, src->line, kw, line))
		return;
	char *name = word(&line);
	char *def = rest(line);
	bool defines = defines_rule(kw);
	bool about = strcmp(kw, "score") == 0 || strcmp(kw, "describe") == 0 || strcmp(kw, "tflags") == 0 ||
		     strcmp(kw, "priority") == 0;
	if (!defines && !about) {
		setting_ignored(rs, src, kw);
		return;
	}
	if (!rule_name_ok(name)) {
		rules_broken_line(rs, src->file, src->line, "%s: bad rule name", kw);
		return;
	}
	if (strcmp(kw, "header") == 0)
		define_header_rule(rs, src, name, def);
	else if (strcmp(kw, "body") == 0)
		define_regex_rule(rs, src, RULE_BODY, name, def);
	else if (strcmp(kw, "rawbody") == 0)
		define_regex_rule(rs, src, RULE_RAWBODY, name, def);
	else if (strcmp(kw, "full") == 0)
		define_regex_rule(rs, src, RULE_FULL, name, def);
	else if (strcmp(kw, "uri") == 0)
		define_regex_rule(rs, src, RULE_URI, name, def);
	else if (strcmp(kw, "mimeheader") == 0)
		define_mimeheader_rule(rs, src, name, def);
	else if (strcmp(kw, "meta") == 0)
		rules_define_meta(rs, rule_of(rs, name), def, src->file, src->line);
	else if (strcmp(kw, "score") == 0)
		set_score(rs, src, name, def);
	else if (strcmp(kw, "describe") == 0) {
		struct rule *r = rule_of(rs, name);
		free(r->describe);
		r->describe = xstrdup(def);
	} else if (strcmp(kw, "tflags") == 0)
		set_tflags(rule_of(rs, name), def);
	/* priority: we run every rule before any meta rule needs it. */
}

static void load_file(struct rule_set *rs, const char *path, int depth, char *err, size_t errlen)
{
	if (err[0])
		return;
	if (depth > INCLUDE_DEPTH_MAX) {
		snprintf(err, errlen, "%s: includes nested deeper than %d", path, INCLUDE_DEPTH_MAX);
		return;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return;
	}
	source_read(rs, path, fileno(f));
	struct source src = { path, 0 };
	struct cond_stack cs = { .active = { true }, .depth = 0 };
	char *line = xmalloc(LINE_MAX_LEN);
	while (fgets(line, LINE_MAX_LEN, f) && !err[0]) {
		src.line++;
		size_t n = strlen(line);
		if (n == LINE_MAX_LEN - 1 && line[n - 1] != '\n') {
			rules_noted(rs, src.file, src.line, "line too long");
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		/* Comments: '#' not escaped (SpamAssassin's rule); blank lines. */
		for (char *h = line; (h = strchr(h, '#')) != NULL; h++)
			if (h == line || h[-1] != '\\') {
				*h = '\0';
				break;
			}
		char *text = rest(line);
		if (!*text)
			continue;
		char *args = text;
		char *kw = word(&args);
		if (conditional(rs, &src, kw, args, &cs))
			continue;
		if (!cs.active[cs.depth]) {
			skipped_by_condition(rs, &cs, kw);
			continue;
		}
		if (strcmp(kw, "lang") == 0 || strcmp(kw, "test") == 0) {
			rs->ignored++;  /* translated descriptions, test vectors: nothing to run */
			continue;
		}
		parse_line(rs, &src, kw, args, depth, err, errlen);
	}
	free(line);
	fclose(f);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.cf in dir, in name order (SpamAssassin's order: later overrides). */
static void load_dir(struct rule_set *rs, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return;
	}
	source_read(rs, dir, dirfd(d));  /* its time changes when a file comes or goes */
	char **names = NULL;
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		size_t len = strlen(e->d_name);
		if (len > 3 && strcmp(e->d_name + len - 3, ".cf") == 0) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		load_file(rs, path, 0, err, errlen);
		free(names[i]);
	}
	free(names);
}

struct rule_set *rules_load(const char *const *paths, size_t n, char *err, size_t errlen)
{
	struct rule_set *rs = xcalloc(1, sizeof(*rs));
	err[0] = '\0';
	for (size_t i = 0; i < n && !err[0]; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			load_dir(rs, paths[i], err, errlen);
		else
			load_file(rs, paths[i], 0, err, errlen);
	}
	if (!err[0]) {
		rules_replace_apply(rs);
		rules_finish(rs);
	}
	if (err[0]) {
		rules_free(rs);
		return NULL;
	}
	return rs;
}

void rules_free(struct rule_set *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		rule_reset_test(&rs->rules[i]);
		free(rs->rules[i].name);
		free(rs->rules[i].describe);
	}
	for (size_t i = 0; i < rs->n_notes; i++)
		free(rs->notes[i]);
	rules_replace_free(rs->replace);
	for (size_t i = 0; i < rs->n_sources; i++)
		free(rs->sources[i].path);
	free(rs->sources);
	for (size_t i = 0; i < rs->n_broken && i < RULES_BROKEN_MAX; i++) {
		free(rs->broken[i].file);
		free(rs->broken[i].why);
	}
	rules_fast_free(rs->fast);
	rules_freemail_free(rs->freemail);
	cidr_list_free(&rs->trusted_networks);
	cidr_list_free(&rs->internal_networks);
	free(rs->order);
	free(rs->rules);
	free(rs->table);
	free(rs);
}

size_t rules_count(const struct rule_set *rs)
{
	return rs->n_active;
}

size_t rules_unsupported(const struct rule_set *rs)
{
	return rs->unsupported;
}

size_t rules_ignored(const struct rule_set *rs)
{
	return rs->ignored;
}

size_t rules_settings(const struct rule_set *rs, size_t i, const char **kw, const char **first)
{
	if (i >= rs->n_settings)
		return 0;
	*kw = rs->settings[i].kw;
	*first = rs->settings[i].first;
	return rs->settings[i].count;
}

size_t rules_notes(const struct rule_set *rs)
{
	return rs->n_notes;
}

const char *rules_note(const struct rule_set *rs, size_t i)
{
	return i < rs->n_notes ? rs->notes[i] : NULL;
}

size_t rules_sources(const struct rule_set *rs, const struct rules_source **sources)
{
	*sources = rs->sources;
	return rs->n_sources;
}

size_t rules_broken(const struct rule_set *rs, size_t i, const char **file, int *line, const char **why)
{
	if (i < rs->n_broken && i < RULES_BROKEN_MAX) {
		*file = rs->broken[i].file;
		*line = rs->broken[i].line;
		*why = rs->broken[i].why;
	}
	return rs->n_broken;
}
