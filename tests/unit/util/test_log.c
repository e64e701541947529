/* Log values are escaped so that a hostile value can neither break the
 * line nor put raw invalid bytes into the log (issue 18 item 7). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* One log line of `value` under key "v", as written to stderr. */
static void logged(enum log_format format, const char *value, char *out, size_t cap)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	int saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	log_init("test", LOG_TARGET_STDERR, format, LOG_DEBUG);
	log_event(LOG_INFO, "probe", "v", value, NULL);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	ssize_t n = read(fds[0], out, cap - 1);
	close(fds[0]);
	cr_assert_gt(n, 0);
	out[n] = '\0';
}

Test(log, invalid_8bit_bytes_are_escaped_not_written_raw)
{
	char line[4096];
	logged(LOG_FORMAT_KV, "250 ok\xff\xfe and \xc3(", line, sizeof(line));
	cr_assert_not_null(strstr(line, "v=\"250 ok\\xff\\xfe and \\xc3(\""), "%s", line);
	cr_assert_null(strchr(line, '\xff'), "raw 0xFF in the log: %s", line);
	logged(LOG_FORMAT_JSON, "a\xff", line, sizeof(line));
	cr_assert_not_null(strstr(line, "\"v\":\"a\\\\xff\""), "%s", line);
}

Test(log, valid_utf8_stays_and_controls_are_escaped)
{
	char line[4096];
	logged(LOG_FORMAT_KV, "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \x1b[31m\r\nx=1", line, sizeof(line));
	cr_assert_not_null(strstr(line, "v=\"gr\xc3\xbc\xc3\x9f \xe2\x82\xac \\u001b[31m\\u000d\\u000ax=1\""),
			   "%s", line);
	/* A C1 control and a truncated sequence are not valid text. */
	logged(LOG_FORMAT_KV, "\xc2\x85|\xe2\x82", line, sizeof(line));
	cr_assert_not_null(strstr(line, "v=\"\\xc2\\x85|\\xe2\\x82\""), "%s", line);
}
