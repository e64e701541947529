#include "master/notify.h"

#include <systemd/sd-daemon.h>

/* unset_environment 0: a child forked later may not inherit the socket
 * anyway (the children never notify), but a reload notifies again. */
void notify_ready(void)
{
	(void)sd_notify(0, "READY=1\nSTATUS=accepting mail");
}

void notify_reloading(void)
{
	(void)sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}
