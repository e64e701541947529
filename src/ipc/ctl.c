#include "ipc/ctl.h"

void ctl_put_channel(struct ipc_msg *m, const char *peer)
{
	ipc_msg_init(m, IPC_MASTER_CHANNEL, 0);
	ipc_put_str(m, peer);
}

bool ctl_get_channel(struct ipc_msg *m, int fd, char *peer, size_t cap)
{
	if (m->type != IPC_MASTER_CHANNEL)
		return false;
	ipc_get_str(m, peer, cap);
	return ipc_get_end(m) && fd >= 0;
}

void ctl_put_config(struct ipc_msg *m, const char *path)
{
	ipc_msg_init(m, IPC_MASTER_CONFIG, 0);
	ipc_put_str(m, path ? path : "");
}

bool ctl_get_config(struct ipc_msg *m, int fd, char *path, size_t cap)
{
	if (m->type != IPC_MASTER_CONFIG)
		return false;
	ipc_get_str(m, path, cap);
	return ipc_get_end(m) && fd < 0;
}
