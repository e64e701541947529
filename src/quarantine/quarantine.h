/*
 * `mailwarden quarantine list|show|release|delete` (SCAN-8): the
 * administrator's view of spool/quarantine/. A simple path for now: the
 * command works on the files directly (run it as root or as the queue
 * user); release renames the file into spool/released/, from where the
 * running queue process moves it into queue/ and delivers it within a
 * second. Nothing is copied, so nothing quarantined can be lost halfway.
 */
#ifndef MW_QUARANTINE_QUARANTINE_H
#define MW_QUARANTINE_QUARANTINE_H

/* argv[0] is "quarantine". Returns the exit status. */
int quarantine_command(int argc, char **argv);

#endif
