/*
 * Telling a service manager how the master is doing (issue 15): under
 * systemd's Type=notify the unit is "active" only once the master says
 * READY=1, after the listeners are bound and the children started, so
 * `systemctl start` returns when mail can be accepted. Without a service
 * manager ($NOTIFY_SOCKET unset) every call does nothing.
 */
#ifndef MW_MASTER_NOTIFY_H
#define MW_MASTER_NOTIFY_H

/* Listeners bound, children started (also after a reload, kept or not). */
void notify_ready(void);
/* SIGHUP: reading the configuration again. */
void notify_reloading(void);
/* SIGTERM/SIGINT: finishing sessions and deliveries in hand. */
void notify_stopping(void);

#endif
