/* A watched file is loaded once per edit, whole: a change counts once it
 * has stayed put for one poll (rules and YARA reloads, issues 11/12). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "util/filestamp.h"
#include "util/fnv.h"

Test(stamp_settled, a_change_is_acted_on_at_the_second_poll_that_sees_it)
{
	struct stamp_settle s = { 0 };
	cr_assert_not(stamp_settled(&s, 1, 1), "nothing changed");
	cr_assert_not(stamp_settled(&s, 1, 2), "first sight of a change");
	cr_assert(stamp_settled(&s, 1, 2), "the same change a poll later");
	cr_assert_not(stamp_settled(&s, 2, 2), "in force now");
}

Test(stamp_settled, a_file_still_being_written_waits)
{
	struct stamp_settle s = { 0 };
	cr_assert_not(stamp_settled(&s, 1, 2));  /* truncated */
	cr_assert_not(stamp_settled(&s, 1, 3));  /* half written */
	cr_assert_not(stamp_settled(&s, 1, 4));  /* whole */
	cr_assert(stamp_settled(&s, 1, 4));
}

Test(stamp_settled, a_change_undone_before_it_settled_is_nothing)
{
	struct stamp_settle s = { 0 };
	cr_assert_not(stamp_settled(&s, 1, 2));
	cr_assert_not(stamp_settled(&s, 1, 1));
	cr_assert_not(stamp_settled(&s, 1, 2), "a fresh change starts over");
	cr_assert(stamp_settled(&s, 1, 2));
}

Test(file_stamp_mix, size_and_presence_change_the_digest)
{
	char path[] = "/tmp/mw-stamp-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	struct file_stamp empty = file_stamp_take(path);
	cr_assert_eq(write(fd, "x", 1), 1);
	struct file_stamp one = file_stamp_take(path);
	close(fd);
	unlink(path);
	struct file_stamp gone = file_stamp_take(path);
	uint64_t a = file_stamp_mix(FNV64_OFFSET, &empty), b = file_stamp_mix(FNV64_OFFSET, &one),
		 c = file_stamp_mix(FNV64_OFFSET, &gone);
	cr_assert_neq(a, b);
	cr_assert_neq(b, c);
	cr_assert_eq(a, file_stamp_mix(FNV64_OFFSET, &empty));
}
