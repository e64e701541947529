/* File names as lenient readers find them (content/hidden_names.h; issue
 * 12, SCAN-7): every reading of a name parameter is a candidate, so an
 * attachment policy sees the ".zip" that broken parameters hide; the
 * repository's evasion set (tests/corpora/mime-is-broken/hide-filename)
 * must give a .zip reading for every one of its 91 mails. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content/hidden_names.h"

static struct hidden_names names;

static void collect(const char *msg)
{
	hidden_names_collect(msg, strlen(msg), &names);
}

static bool has(const char *name)
{
	for (size_t i = 0; i < names.n; i++)
		if (strcmp(names.names[i], name) == 0)
			return true;
	return false;
}

static bool has_extension(const char *ext)
{
	for (size_t i = 0; i < names.n; i++) {
		size_t n = strlen(names.names[i]), e = strlen(ext);
		if (n > e && strcasecmp(names.names[i] + n - e, ext) == 0)
			return true;
	}
	return false;
}

Test(hidden_names, a_plain_name_is_itself)
{
	collect("Content-Type: application/pdf; name=\"invoice.pdf\"\r\n\r\nbody\r\n");
	cr_assert(has("invoice.pdf"));
	cr_assert_eq(names.n, 1);
}

Test(hidden_names, continuations_count_in_number_order_and_as_they_came)
{
	collect("Content-Type: application/octet-stream; name=file.png; name*1=zip; name*0=file.\r\n\r\n");
	cr_assert(has("file.png"));
	cr_assert(has("file.zip"));
	cr_assert(has("zipfile."));
}

Test(hidden_names, continuations_split_over_two_fields_are_joined)
{
	collect("Content-Disposition: attachment; filename*1=zip\r\n"
		"Content-Type: application/octet-stream; filename*0=file.\r\n\r\n");
	cr_assert(has("file.zip"));
}

Test(hidden_names, extended_values_are_decoded_utf16_too)
{
	collect("Content-Type: a/b; name*=UTF-16''f%00i%00l%00e%00.%00z%00i%00p%00\r\n\r\n");
	cr_assert(has("file.zip"));
	collect("Content-Type: a/b; name*0*=''file.%7A%69%70\r\n\r\n");
	cr_assert(has("file.zip"));
}

Test(hidden_names, encoded_words_quotes_comments_and_escapes)
{
	collect("Content-Type: a/b; name=\"=?utf-16?B?ZgBpAGwAZQAuAHoAaQBwAA==?=\"\r\n\r\n");
	cr_assert(has("file.zip"));
	collect("Content-Type: a/b; name=file.z(.gif)ip\r\n\r\n");
	cr_assert(has("file.zip"));
	collect("Content-Type: a/b; name=file\\;.zip\r\n\r\n");
	cr_assert(has("file;.zip"));
	collect("Content-Disposition: attachment; filename=\"file\\\".zip\"\r\n\r\n");
	cr_assert(has("file\".zip"));
}

Test(hidden_names, a_fold_before_the_value_is_read_through)
{
	collect("Content-Disposition: attachment;filename\r\n =file.zip\r\n\r\n");
	cr_assert(has("file.zip"));
}

Test(hidden_names, names_are_bounded)
{
	size_t cap = 100 * 64;
	char *msg = malloc(cap);
	msg[0] = '\0';
	for (int i = 0; i < 100; i++)
		snprintf(msg + strlen(msg), cap - strlen(msg), "Content-Type: a/b; name=f%d.zip\r\n\r\n", i);
	collect(msg);
	cr_assert_eq(names.n, HIDDEN_NAMES_MAX);
	cr_assert(names.truncated);
	free(msg);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

Test(hidden_names, every_mail_of_the_evasion_set_shows_its_zip)
{
	const char *dir = MW_SOURCE_DIR "/tests/corpora/mime-is-broken/hide-filename";
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	size_t mails = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t len;
		char *msg = slurp(path, &len);
		hidden_names_collect(msg, len, &names);
		cr_expect(has_extension(".zip"), "%s: no .zip reading", e->d_name);
		free(msg);
		mails++;
	}
	closedir(d);
	cr_assert_eq(mails, 91);
}
