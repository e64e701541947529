#include "smtp/body.h"

#include <string.h>

/* Index of the first CR or LF in in[i..len), or len: the run of ordinary
 * bytes the decoder may copy as it is (memchr is vectorised; a message
 * body is almost all such runs). */
static size_t run_end(const char *in, size_t i, size_t len)
{
	const char *cr = memchr(in + i, '\r', len - i);
	size_t lim = cr ? (size_t)(cr - in) : len;
	const char *lf = memchr(in + i, '\n', lim - i);
	return lf ? (size_t)(lf - in) : lim;
}

void body_decoder_init(struct body_decoder *d)
{
	d->state = BODY_SOL;
	d->nul = false;
}

void body_note_nul(struct body_decoder *d, const char *p, size_t len)
{
	if (!d->nul && len > 0 && memchr(p, '\0', len))
		d->nul = true;
}

size_t body_decode(struct body_decoder *d, const char *in, size_t len, char *out, size_t *used)
{
	size_t o = 0, i = 0;
	for (; i < len && d->state != BODY_END && !body_failed(d); i++) {
		char c = in[i];
		switch (d->state) {
		case BODY_SOL:
		case BODY_TEXT:
			if (c == '\r')
				d->state = BODY_CR;  /* held back until its LF arrives */
			else if (c == '\n')
				d->state = BODY_BARE_LF;
			else if (c == '.' && d->state == BODY_SOL)
				d->state = BODY_DOT;
			else {
				size_t end = run_end(in, i, len);  /* > i: in[i] is neither CR nor LF */
				body_note_nul(d, in + i, end - i);
				memcpy(out + o, in + i, end - i);
				o += end - i;
				i = end - 1;
				d->state = BODY_TEXT;
			}
			break;
		case BODY_CR:
			if (c == '\n') {
				out[o++] = '\r';
				out[o++] = '\n';
				d->state = BODY_SOL;
			} else {
				d->state = BODY_BARE_CR;
			}
			break;
		case BODY_DOT:
			/* A leading dot is removed (RFC 5321 4.5.2); ".\r" may be the end. */
			if (c == '\r')
				d->state = BODY_DOT_CR;
			else if (c == '\n')
				d->state = BODY_BARE_LF;
			else {
				body_note_nul(d, &c, 1);  /* ".\0" */
				out[o++] = c;
				d->state = BODY_TEXT;
			}
			break;
		case BODY_DOT_CR:
			d->state = c == '\n' ? BODY_END : BODY_BARE_CR;
			break;
		case BODY_END:
		case BODY_BARE_LF:
		case BODY_BARE_CR:
			break;
		}
	}
	/* On an error the offending byte counts as consumed; nothing after it is. */
	*used = i;
	return o;
}
