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

void ctl_put_bayes_sample(struct ipc_msg *m, bool spam, const char *id, const uint64_t *h, size_t n)
{
	ipc_msg_init(m, IPC_BAYES_SAMPLE, 0);
	ipc_put_u32(m, spam);
	ipc_put_str(m, id);
	if (n > CTL_SAMPLE_TOKENS_MAX)
		n = CTL_SAMPLE_TOKENS_MAX;
	ipc_put_u32(m, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		ipc_put_u64(m, h[i]);
}

bool ctl_get_bayes_sample(struct ipc_msg *m, int fd, bool *spam, char *id, size_t idcap, uint64_t *h, size_t cap,
			  size_t *n)
{
	if (m->type != IPC_BAYES_SAMPLE || fd >= 0)
		return false;
	uint32_t cls = ipc_get_u32(m);
	ipc_get_str(m, id, idcap);
	uint32_t count = ipc_get_u32(m);
	if (cls > 1 || count > cap || count > CTL_SAMPLE_TOKENS_MAX)
		return false;
	for (uint32_t i = 0; i < count; i++)
		h[i] = ipc_get_u64(m);
	*spam = cls == 1;
	*n = count;
	return ipc_get_end(m) && id[0] != '\0';
}
