/*
 * See tnef.h.
 */
#include "content/tnef.h"

#include <stdint.h>
#include <stdio.h>  /* before ytnef.h, which uses FILE without it */
#include <stdlib.h>
#include <string.h>

#include <ytnef.h>

#define TNEF_SIGNATURE 0x223E9F78u

bool tnef_detect(const char *buf, size_t len)
{
	const unsigned char *b = (const unsigned char *)buf;
	return len >= 6 && ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24) ==
				   TNEF_SIGNATURE;
}

/* The name a mail client would save the file under: the long name (a
 * MAPI property), else the 8.3 title; without its trailing NUL. */
static void file_name(Attachment *a, char *out, size_t cap)
{
	variableLength *v = MAPIFindProperty(&a->MAPI, PROP_TAG(PT_STRING8, PR_ATTACH_LONG_FILENAME));
	if (v == MAPI_UNDEFINED || !v->data || v->size <= 0)
		v = &a->Title;
	size_t n = v->data && v->size > 0 ? (size_t)v->size : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, v->data ? (const char *)v->data : "", n);
	out[n] = '\0';  /* a stored NUL ends it earlier: what follows is no part of the name */
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* libytnef keeps the last of an attribute given twice in one scope (the
 * message, or one attachment) and leaks the first, and it saves an
 * attachment's attributes met before any attachment began into a record
 * it never frees: a crafted container could make the scanner leak on
 * every message. So the framing is walked first ([MS-OXTNEF] 2.1.3:
 * level, id, length, data, checksum) and a container that libytnef could
 * not read without leaking (or that runs past its end) is not handed to
 * it at all; it is reported as broken. Attributes are told apart by the
 * low 16 bits of their id (libytnef compares all 32: this refuses more,
 * never less). */
#define ATT_REND_DATA 0x9002u  /* attAttachRendData: starts an attachment */
#define SCOPE_ATTRIBUTES 64

/* The attachment's attributes by the low 16 bits of their id, with the
 * whole id [MS-OXTNEF] gives them (libytnef knows only that one):
 * attAttachData, Title, MetaFile, CreateDate, ModifyDate,
 * TransportFilename, RendData, and the attachment's MAPI properties.
 * 0: not an attachment's attribute. */
static uint32_t attachment_attribute(uint16_t id)
{
	static const uint32_t known[] = { 0x0006800Fu, 0x00018010u, 0x00068011u, 0x00038012u,
					  0x00038013u, 0x00069001u, 0x00069002u, 0x00069005u };
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if ((known[i] & 0xFFFFu) == id)
			return known[i];
	return 0;
}

struct scope {
	uint16_t id[SCOPE_ATTRIBUTES];
	size_t n;
};

/* False when id was seen in the scope before (or the scope is full). */
static bool first_in(struct scope *s, uint16_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->id[i] == id)
			return false;
	if (s->n == SCOPE_ATTRIBUTES)
		return false;
	s->id[s->n++] = id;
	return true;
}

static bool framing_sound(const unsigned char *b, size_t len)
{
	struct scope message = { .n = 0 }, attachment = { .n = 0 };
	bool in_attachment = false;
	for (size_t at = 6; at < len;) {
		if (len - at < 11)
			return false;
		uint32_t whole = le32(b + at + 1), size = le32(b + at + 5);
		uint16_t id = (uint16_t)(whole & 0xFFFFu);
		if (size == 0 || size > len - at - 11)
			return false;  /* libytnef stops at a size of 0 without cleaning up */
		uint16_t sum = 0;
		for (size_t i = 0; i < size; i++)
			sum = (uint16_t)(sum + b[at + 9 + i]);
		if (sum != (uint16_t)(b[at + 9 + size] | b[at + 10 + size] << 8))
			return false;  /* libytnef would stop there, printing to stdout */
		uint32_t canonical = attachment_attribute(id);
		if (canonical && whole != canonical)
			return false;  /* an attachment's attribute libytnef would not take as one */
		if (id == ATT_REND_DATA) {
			in_attachment = true;
			attachment.n = 0;
		}
		if (canonical) {
			if (!in_attachment || !first_in(&attachment, id))
				return false;
		} else if (!first_in(&message, id)) {
			return false;
		}
		at += 11 + (size_t)size;
	}
	return true;
}

bool tnef_walk(const char *buf, size_t len, tnef_file_fn fn, void *arg)
{
	if (!tnef_detect(buf, len) || len > INT32_MAX || !framing_sound((const unsigned char *)buf, len))
		return false;
	TNEFStruct *t = calloc(1, sizeof(*t));
	if (!t)
		return false;
	TNEFInitialize(t);
	t->Debug = 0;
	/* libytnef reads the buffer only; its prototype lacks the const. */
	bool whole = TNEFParseMemory((BYTE *)(uintptr_t)buf, (long)len, t) == 0;
	char name[1024];
	for (Attachment *a = t->starting_attach.next; a; a = a->next) {
		if (!a->FileData.data || a->FileData.size <= 0)
			continue;  /* an embedded object without file bytes */
		file_name(a, name, sizeof(name));
		struct tnef_file f = { name[0] ? name : NULL, (const char *)a->FileData.data, (size_t)a->FileData.size };
		if (!fn(arg, &f))
			break;
	}
	TNEFFree(t);
	free(t);
	return whole;
}
