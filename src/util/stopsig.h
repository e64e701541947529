/*
 * The stop signals (SIGTERM, SIGINT) of a child process stay blocked from
 * its fork until its event loop has handlers for them: a stop that comes
 * while the child is still starting (loading tables, dropping privileges)
 * then waits, pending, and is handled like any other stop — the child
 * finishes cleanly — instead of killing a child half set up by the
 * default action.
 */
#ifndef MW_UTIL_STOPSIG_H
#define MW_UTIL_STOPSIG_H

/* In the child, right after fork: the signal mask becomes exactly the
 * stop signals, in one step (threads started later inherit it, so the
 * signal goes to the loop's thread). */
void stopsig_only(void);
/* Once the loop's handlers are installed: a pending stop arrives now. */
void stopsig_release(void);

#endif
