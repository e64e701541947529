/*
 * See attach_class.h.
 */
#include "content/attach_class.h"

#include <string.h>

static const struct {
	uint32_t bit;
	const char *name, *symbol;
} classes[ATTACH_CLASS_COUNT] = {
	{ ATTACH_CLASS_EXECUTABLE, "executable", "EXECUTABLE" },
	{ ATTACH_CLASS_SCRIPT, "script", "SCRIPT" },
	{ ATTACH_CLASS_SHORTCUT, "shortcut", "SHORTCUT" },
	{ ATTACH_CLASS_DISKIMAGE, "diskimage", "DISKIMAGE" },
	{ ATTACH_CLASS_MACRO, "macro", "MACRO" },
	{ ATTACH_CLASS_ARCHIVE, "archive", "ARCHIVE" },
	{ ATTACH_CLASS_ENCRYPTED, "encrypted", "ENCRYPTED" },
};

const char *attach_class_name(uint32_t c)
{
	for (size_t i = 0; i < ATTACH_CLASS_COUNT; i++)
		if (classes[i].bit == c)
			return classes[i].name;
	return NULL;
}

const char *attach_class_symbol(uint32_t c)
{
	for (size_t i = 0; i < ATTACH_CLASS_COUNT; i++)
		if (classes[i].bit == c)
			return classes[i].symbol;
	return NULL;
}

uint32_t attach_class_parse(const char *name, size_t len)
{
	for (size_t i = 0; i < ATTACH_CLASS_COUNT; i++)
		if (strlen(classes[i].name) == len && memcmp(classes[i].name, name, len) == 0)
			return classes[i].bit;
	return 0;
}
