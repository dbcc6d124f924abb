/*
 * gw_rawfd: adoption of descriptors into the lws loop as raw files, and the one protocol callback
 * that hands their events to the owning transport. The opaque user data of each wsi is the
 * gw_rawfd embedded in its owner; detaching clears it, so a callback that lws still delivers while
 * it closes the descriptor asynchronously finds nothing and is dropped. A write request made inside
 * the writeable callback is made again from a timer once the callback has returned, because lws
 * 4.1.6 clears POLLOUT after that callback (a partial write would otherwise wait for the next frame).
 */
#include "gw_rawfd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "gw_loop.h"

#define GW_RAWFD_PROTOCOL "raw-fd"

static void rearm_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_rawfd *rf = lws_container_of(sul, struct gw_rawfd, sul_rearm);

	if (rf->wsi)
		lws_callback_on_writable(rf->wsi);
}

static int rawfd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct gw_rawfd *rf;

	(void)user;
	(void)in;
	(void)len;
	if (reason != LWS_CALLBACK_RAW_RX_FILE && reason != LWS_CALLBACK_RAW_WRITEABLE_FILE &&
	    reason != LWS_CALLBACK_RAW_CLOSE_FILE)
		return 0;
	rf = lws_get_opaque_user_data(wsi);
	if (!rf || rf->wsi != wsi)
		/* Detached and waiting for its async close: let lws finish it. */
		return reason == LWS_CALLBACK_RAW_CLOSE_FILE ? 0 : -1;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		return rf->ops->on_rx ? rf->ops->on_rx(rf->owner) : 0;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE: {
		int rc;

		rf->in_writeable = true;
		rc = rf->ops->on_writeable ? rf->ops->on_writeable(rf->owner) : 0;
		rf->in_writeable = false;
		if (rf->rearm && rc == 0 && rf->wsi == wsi)
			lws_sul_schedule(lws_get_context(wsi), 0, &rf->sul_rearm, rearm_cb, 1);
		rf->rearm = false;
		return rc;
	}
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		lws_sul_cancel(&rf->sul_rearm);
		rf->wsi = NULL;
		if (rf->ops->on_close)
			rf->ops->on_close(rf->owner);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols rawfd_protocol = { GW_RAWFD_PROTOCOL, rawfd_callback, 0, 0, 0, NULL, 0 };

__attribute__((constructor)) static void rawfd_register(void)
{
	gw_loop_register_protocol(&rawfd_protocol);
}

int gw_rawfd_adopt(struct gw_rawfd *rf, struct gw_loop *loop, int fd, bool dup, const struct gw_rawfd_ops *ops,
		   void *owner)
{
	lws_adopt_desc_t ad;
	int d = fd;

	if (dup) {
		d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (d < 0)
			return -errno;
	}
	rf->ops = ops;
	rf->owner = owner;
	rf->fd = d;
	memset(&ad, 0, sizeof(ad));
	ad.vh = gw_loop_vhost(loop);
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = d;
	ad.vh_prot_name = GW_RAWFD_PROTOCOL;
	ad.opaque = rf;
	rf->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
	if (!rf->wsi) {
		/* lws closes only sockets adopted as such when adoption fails; a raw file is still ours. */
		close(d);
		return -EIO;
	}
	return 0;
}

void gw_rawfd_want_write(struct gw_rawfd *rf)
{
	if (rf->in_writeable)
		rf->rearm = true;
	else if (rf->wsi)
		lws_callback_on_writable(rf->wsi);
}

void gw_rawfd_rx_enable(struct gw_rawfd *rf, bool on)
{
	if (rf->wsi)
		lws_rx_flow_control(rf->wsi, on ? 1 : 0);
}

void gw_rawfd_close(struct gw_rawfd *rf)
{
	lws_sul_cancel(&rf->sul_rearm);
	if (rf->wsi)
		lws_set_timeout(rf->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void gw_rawfd_detach(struct gw_rawfd *rf)
{
	lws_sul_cancel(&rf->sul_rearm);
	if (!rf->wsi)
		return;
	lws_set_opaque_user_data(rf->wsi, NULL);
	lws_set_timeout(rf->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	rf->wsi = NULL;
}
