/* Log values are escaped so that a hostile value can neither break the
 * line nor put raw invalid bytes into the log (issue 18 item 7); a JSON
 * line is one object and nothing else, numbers unquoted (issue 15). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* What one call of emit() writes to stderr (at most one line is expected). */
static void captured(enum log_format format, void (*emit)(const char *), const char *value, char *out,
		     size_t cap)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	int saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	log_init("test", LOG_TARGET_STDERR, format, LOG_DEBUG);
	emit(value);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	size_t got = 0;
	ssize_t n;
	while (got + 1 < cap && (n = read(fds[0], out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	out[got] = '\0';
}

static void emit_probe(const char *value)
{
	log_event(LOG_INFO, "probe", "v", value, NULL);
}

/* One log line of `value` under key "v", as written to stderr. */
static void logged(enum log_format format, const char *value, char *out, size_t cap)
{
	captured(format, emit_probe, value, out, cap);
	cr_assert_gt(strlen(out), 0);
}

/* The JSON line parsed by jansson: exactly one object, then "\n". */
static json_t *parsed(const char *line)
{
	size_t len = strlen(line);
	cr_assert_gt(len, 1);
	cr_assert_eq(line[len - 1], '\n', "%s", line);
	cr_assert_null(memchr(line, '\n', len - 1), "more than one line: %s", line);
	json_error_t err;
	json_t *o = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES, &err);
	cr_assert_not_null(o, "not JSON (%s at %d): %s", err.text, err.position, line);
	cr_assert(json_is_object(o), "%s", line);
	return o;
}

static const char *str_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

Test(log, invalid_8bit_bytes_are_escaped_not_written_raw)
{
	char line[8192];
	logged(LOG_FORMAT_KV, "250 ok\xff\xfe and \xc3(", line, sizeof(line));
	cr_assert_not_null(strstr(line, "v=\"250 ok\\xff\\xfe and \\xc3(\""), "%s", line);
	cr_assert_null(strchr(line, '\xff'), "raw 0xFF in the log: %s", line);
	logged(LOG_FORMAT_JSON, "a\xff", line, sizeof(line));
	cr_assert_not_null(strstr(line, "\"v\":\"a\\\\xff\""), "%s", line);
	json_t *o = parsed(line);
	cr_assert_str_eq(str_member(o, "v"), "a\\xff");
	json_decref(o);
}

Test(log, valid_utf8_stays_and_controls_are_escaped)
{
	char line[8192];
	logged(LOG_FORMAT_KV, "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \x1b[31m\r\nx=1", line, sizeof(line));
	cr_assert_not_null(strstr(line, "v=\"gr\xc3\xbc\xc3\x9f \xe2\x82\xac \\u001b[31m\\u000d\\u000ax=1\""),
			   "%s", line);
	/* A C1 control and a truncated sequence are not valid text. */
	logged(LOG_FORMAT_KV, "\xc2\x85|\xe2\x82", line, sizeof(line));
	cr_assert_not_null(strstr(line, "v=\"\\xc2\\x85|\\xe2\\x82\""), "%s", line);
}

static void emit_mixed(const char *value)
{
	log_event(LOG_WARNING, "probe", "n", log_u64(42), "secs", log_ms(1234), "text_digits", "42", "v", value,
		  "empty", NULL, "pid", log_u64(7), NULL);
}

/* The kv format is what system tests and administrators' scripts parse:
 * its bytes do not change (issue 15). */
Test(log, kv_line_keeps_its_prefix_and_bytes)
{
	char line[8192], want[256];
	captured(LOG_FORMAT_KV, emit_mixed, "a b", line, sizeof(line));
	snprintf(want, sizeof(want),
		 " mailwarden[%ld]: level=warning proc=test event=probe n=42 secs=1.234 text_digits=42 v=\"a b\" "
		 "empty=\"\" pid=7\n", (long)getpid());
	regex_t stamp;
	cr_assert_eq(regcomp(&stamp, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z ",
			     REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regexec(&stamp, line, 0, NULL, 0), 0, "%s", line);
	regfree(&stamp);
	cr_assert_str_eq(line + 24, want);
}

/* Issue 15: nothing before the object; time and pid inside it; numbers
 * made by log_u64/log_ms are JSON numbers, every other value a string. */
Test(log, json_line_is_one_object_with_ts_pid_and_numbers)
{
	char line[8192];
	captured(LOG_FORMAT_JSON, emit_mixed, "say \"hi\"\tthen\n{\"forged\":1}", line, sizeof(line));
	cr_assert_eq(line[0], '{', "%s", line);
	json_t *o = parsed(line);
	const char *ts = str_member(o, "ts");
	regex_t stamp;
	cr_assert_eq(regcomp(&stamp, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
			     REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regexec(&stamp, ts, 0, NULL, 0), 0, "ts %s", ts);
	regfree(&stamp);
	json_t *pid = json_object_get(o, "pid");
	cr_assert(json_is_integer(pid), "%s", line);
	cr_assert_eq(json_integer_value(pid), (json_int_t)getpid());
	cr_assert_str_eq(str_member(o, "level"), "warning");
	cr_assert_str_eq(str_member(o, "proc"), "test");
	cr_assert_str_eq(str_member(o, "event"), "probe");
	json_t *n = json_object_get(o, "n");
	cr_assert(json_is_integer(n) && json_integer_value(n) == 42, "%s", line);
	json_t *secs = json_object_get(o, "secs");
	cr_assert(json_is_real(secs) && json_real_value(secs) > 1.2335 && json_real_value(secs) < 1.2345, "%s",
		  line);
	cr_assert_str_eq(str_member(o, "text_digits"), "42");   /* not from log_u64: stays a string */
	cr_assert_str_eq(str_member(o, "v"), "say \"hi\"\tthen\n{\"forged\":1}");
	cr_assert_str_eq(str_member(o, "empty"), "");
	cr_assert_null(json_object_get(o, "forged"));
	json_t *child = json_object_get(o, "child_pid");  /* an event's "pid": "pid" is the writer's */
	cr_assert(json_is_integer(child) && json_integer_value(child) == 7, "%s", line);
	cr_assert_eq(json_object_size(o), 11, "%s", line);
	json_decref(o);
}

/* A value too long for one line is cut between whole characters and
 * escapes: the line stays one valid object. */
Test(log, overlong_json_line_is_cut_and_still_parses)
{
	static char value[9000], line[16384];
	for (size_t i = 0; i + 3 < sizeof(value); i += 3)
		memcpy(value + i, i % 2 ? "\xe2\x82\xac" : "\"\x01\\", 3);
	captured(LOG_FORMAT_JSON, emit_probe, value, line, sizeof(line));
	json_t *o = parsed(line);
	cr_assert_gt(strlen(str_member(o, "v")), 1000);
	json_decref(o);
}

static void emit_fields_after(const char *value)
{
	log_event(LOG_INFO, "probe", "v", value, "a_long_key_name", log_ms(123456), "quoted", "x y", "n",
		  log_u64(12345), NULL);
}

/* Wherever the cut falls (in a value, a key, a number, an escape), the
 * JSON line parses and a kv line ends with its newline. */
Test(log, a_cut_anywhere_leaves_a_valid_line)
{
	static char value[4200], line[16384];
	for (size_t n = 3950; n < 4100; n++) {
		memset(value, 'a', n);
		value[n] = '\0';
		if (n % 3 == 0)
			value[n - 1] = '"';   /* a two-byte escape at the edge */
		captured(LOG_FORMAT_JSON, emit_fields_after, value, line, sizeof(line));
		json_decref(parsed(line));
		captured(LOG_FORMAT_KV, emit_fields_after, value, line, sizeof(line));
		cr_assert_eq(line[strlen(line) - 1], '\n');
		cr_assert_lt(strlen(line), 4200);
	}
}

Test(log, log_ms_writes_seconds_with_three_decimals)
{
	cr_assert_str_eq(log_ms(0), "0.000");
	cr_assert_str_eq(log_ms(7), "0.007");
	cr_assert_str_eq(log_ms(61001), "61.001");
	cr_assert_str_eq(log_ms(-5), "0.000");
}

/* The detached gateway: a reload's log_init(stderr) must not send the
 * lines to the /dev/null that stderr has become (issue 15). */
Test(log, pinned_syslog_ignores_a_later_stderr_target)
{
	char line[512];
	log_pin_syslog();
	captured(LOG_FORMAT_KV, emit_probe, "x", line, sizeof(line));
	cr_assert_str_eq(line, "", "written to stderr: %s", line);
}
