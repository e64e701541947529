/* URLs in a message's text (content/uri.h; issue 11): what uri rules
 * match. Plain text and HTML attributes, www. names, redirect targets,
 * duplicates dropped, bounded. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/uri.h"

static struct uri_list l;

static void done(void)
{
	uri_list_free(&l);
}

TestSuite(uri, .fini = done);

static bool has(const char *u)
{
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.uris[i], u) == 0)
			return true;
	return false;
}

static void extract(const char *text, bool html)
{
	uri_extract(text, strlen(text), html, &l);
}

Test(uri, plain_text_urls_and_www_names)
{
	extract("Visit https://Example.com/a?b=1, or www.shop.example. Mail mailto:x@y.example!\n"
		"Not a url: awww.no.example", false);
	cr_assert(has("https://Example.com/a?b=1"), "trailing comma is not part of it");
	cr_assert(has("http://www.shop.example"), "www. gets http://, the full stop goes");
	cr_assert(has("mailto:x@y.example"));
	cr_assert_eq(l.n, 3, "awww. is not a www. name");
}

Test(uri, html_attributes_and_entities)
{
	extract("<a href = \"http://a.example/x?p=1&amp;q=2\">click</a><img src='https://img.example/i.png'>"
		"<form action=http://post.example/f><a href=\"#top\">", true);
	cr_assert(has("http://a.example/x?p=1&q=2"));
	cr_assert(has("https://img.example/i.png"));
	cr_assert(has("http://post.example/f"));
	cr_assert_not(has("#top"));
}

Test(uri, redirect_targets_and_duplicates)
{
	extract("http://www.google.example/url?q=https%3A%2F%2Fevil.example%2Fpay&sa=D "
		"http://www.google.example/url?q=https%3A%2F%2Fevil.example%2Fpay&sa=D", false);
	cr_assert(has("https://evil.example/pay"));
	cr_assert_eq(l.n, 2);
}

Test(uri, bounded)
{
	size_t n = 3 * URI_MAX;
	char *text = malloc(n * 24 + 1), *p = text;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "http://h%zu.example ", i);
	extract(text, false);
	cr_assert_eq(l.n, URI_MAX);
	cr_assert(l.truncated);
	free(text);
	uri_list_free(&l);
	char *long_url = malloc(URI_LEN_MAX + 100);
	strcpy(long_url, "http://");
	memset(long_url + 7, 'a', URI_LEN_MAX + 50);
	long_url[URI_LEN_MAX + 57] = '\0';
	extract(long_url, false);
	cr_assert_eq(l.n, 0, "an overlong URL is not kept");
	free(long_url);
}

/* "href=href=href=..." (or an unclosed quote) made every attribute scan
 * to the end of the part: 1 MB took hours. Each value is read once now. */
Test(uri, attributes_without_end_cost_linear_time, .timeout = 30)
{
	size_t n = 1 << 20;
	char *text = malloc(n + 1);
	for (size_t i = 0; i < n; i += 5)
		memcpy(text + i, "href=", n - i < 5 ? n - i : 5);
	text[n] = '\0';
	extract(text, true);
	cr_assert_eq(l.n, 0);
	uri_list_free(&l);
	memset(text, 'a', n);
	memcpy(text, "<a href=\"http://x.example/", 26);
	for (size_t i = 100; i + 7 < n; i += 50)
		memcpy(text + i, " src='", 6);
	extract(text, false);
	size_t in_text = l.n;
	uri_list_free(&l);
	extract(text, true);
	cr_assert_eq(l.n, in_text, "no closing quote within the bound: no URL from the attribute");
	free(text);
}

Test(uri, a_value_after_another_attribute_is_still_found)
{
	extract("<a href=\"http://a.example/\" src=\"www.b.example\"><img background='http://c.example/?x=http://d'>",
		true);
	cr_assert(has("http://a.example/"));
	cr_assert(has("http://www.b.example"));
	cr_assert(has("http://c.example/?x=http://d"));
}

/* The text is (p, len): nothing past len is read, even where "&amp;" is
 * cut short by the end (the buffer here has no NUL after it). */
Test(uri, an_entity_cut_by_the_end_is_not_read_past_it)
{
	static const char src[] = "<a href=\"http://x.example/?a&am";
	size_t n = sizeof(src) - 1;
	char *text = malloc(n);
	memcpy(text, src, n);
	uri_extract(text, n, true, &l);
	cr_assert(has("http://x.example/?a&am"));
	free(text);
}

/* A repeated URL costs one hash look-up, not a comparison with each of
 * the up to URI_MAX kept; duplicates still never count towards the limit. */
Test(uri, many_duplicates_are_dropped_cheaply, .timeout = 30)
{
	size_t distinct = URI_MAX - 1, repeats = 200000;
	char *text = malloc((distinct + repeats) * 40 + 1), *p = text;
	for (size_t i = 0; i < distinct; i++)
		p += sprintf(p, "http://h%zu.example/ ", i);
	for (size_t i = 0; i < repeats; i++)
		p += sprintf(p, "http://h%zu.example/ ", i % distinct);
	extract(text, false);
	cr_assert_eq(l.n, distinct);
	cr_assert_not(l.truncated);
	free(text);
}
