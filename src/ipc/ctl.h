/*
 * The messages of the control channel between the master and each child
 * (msg.h range 300..399): one encoder and one decoder per message, so the
 * layout is written down once.
 */
#ifndef MW_IPC_CTL_H
#define MW_IPC_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"

/* IPC_MASTER_CHANNEL: "here is a channel to a process of kind peer"; the
 * socket travels as the message's descriptor. */
void ctl_put_channel(struct ipc_msg *m, const char *peer);

/* True if m is an IPC_MASTER_CHANNEL that carries a descriptor, with
 * nothing left over; the peer's kind is copied into peer (cap bytes). The
 * caller checks the kind: anything it does not expect from the master is
 * a protocol error (it exits: it cannot be managed any more). */
bool ctl_get_channel(struct ipc_msg *m, int fd, char *peer, size_t cap);

/* IPC_MASTER_CONFIG: "load this configuration file" (NULL: the embedded
 * default), sent after the master loaded and checked it on SIGHUP. */
void ctl_put_config(struct ipc_msg *m, const char *path);

/* True if m is a well-formed IPC_MASTER_CONFIG without a descriptor; the
 * path ("" for the embedded default) is copied into path (cap bytes). */
bool ctl_get_config(struct ipc_msg *m, int fd, char *path, size_t cap);

/* IPC_BAYES_SAMPLE: the scanner's "learn this message" (scan.bayes_autolearn):
 * spam or ham, its identity (Message-ID or a digest) and its n token
 * hashes (content/bayes.h), at most CTL_SAMPLE_TOKENS_MAX of them. */
#define CTL_SAMPLE_TOKENS_MAX 4096
#define CTL_SAMPLE_ID_MAX 512
void ctl_put_bayes_sample(struct ipc_msg *m, bool spam, const char *id, const uint64_t *h, size_t n);

/* True if m is a well-formed IPC_BAYES_SAMPLE without a descriptor, with
 * at most cap hashes (copied into h, *n of them) and an id that fits
 * idcap bytes. */
bool ctl_get_bayes_sample(struct ipc_msg *m, int fd, bool *spam, char *id, size_t idcap, uint64_t *h, size_t cap,
			  size_t *n);

#endif
