/*
 * Header field lengths; see field_size.h.
 */
#include "smtp/field_size.h"

void field_size_feed(struct field_size *f, const char *p, size_t len)
{
	for (size_t i = 0; i < len && !f->body; i++) {
		char c = p[i];
		if (c == '\n' && (f->line == 0 || f->cr_only)) {
			f->body = true;  /* the empty line */
			break;
		}
		if (f->line == 0 && c != ' ' && c != '\t')
			f->len = 0;  /* a new field; a blank starts a continuation */
		if (++f->len > FIELD_SIZE_MAX)
			f->too_long = true;
		if (c == '\n') {
			f->line = 0;
			f->cr_only = false;
			continue;
		}
		f->cr_only = f->line == 0 && c == '\r';
		f->line++;
	}
}
