/*
 * The SMTP command table: for each verb the states it is allowed in, its
 * flags and its handler. The dispatcher enforces state and argument rules
 * once, for every command, so no handler can forget them.
 */
#ifndef MW_SMTP_COMMANDS_H
#define MW_SMTP_COMMANDS_H

#include <stddef.h>

struct smtp_session;

/* Parse one command line and run it (or refuse it). */
void smtp_command_dispatch(struct smtp_session *s, const char *line, size_t len);

#endif
