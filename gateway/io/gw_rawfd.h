/*
 * gw_rawfd: a descriptor on the loop, for every transport the same way. lws 4.1.6 adopts it as a raw
 * file (it polls it and calls back, nothing more); one protocol callback dispatches to the owner's
 * ops. A descriptor that stays the caller's (a libserialport handle, a libcurl or libmosquitto
 * socket) is adopted as a dup(), so that lws closing its copy never closes the owner's
 * (c-style.md section 2). Detaching first makes a late callback of an object being freed harmless.
 */
#ifndef GW_RAWFD_H
#define GW_RAWFD_H

#include <stdbool.h>

#include <libwebsockets.h>

struct gw_loop;

struct gw_rawfd_ops {
	/* POLLIN. Return 0, or -1 to have lws close the descriptor. */
	int (*on_rx)(void *owner);
	/* Writable after gw_rawfd_want_write(). Return 0, or -1 to close. */
	int (*on_writeable)(void *owner);
	/* lws closed its descriptor (always called once, unless detached first). */
	void (*on_close)(void *owner);
};

/* Embed in the owner; zero it before first use. */
struct gw_rawfd {
	struct lws *wsi;               /* NULL when not on the loop */
	int fd;                        /* the descriptor lws polls (the dup, when adopted as one) */
	const struct gw_rawfd_ops *ops;
	void *owner;
	/* lws 4.1.6 clears POLLOUT on a raw file after its writeable callback returns, losing a request
	 * made inside it: such a request is made again on the next loop turn. */
	bool in_writeable, rearm;
	lws_sorted_usec_list_t sul_rearm;
};

/**
 * gw_rawfd_adopt() - put @fd on the loop.
 * @dup: adopt a dup() of @fd, which stays the caller's; else @fd itself passes to lws (and is closed
 *       here if the loop refuses it).
 * Return: 0, or a negative errno (nothing is on the loop then).
 */
int gw_rawfd_adopt(struct gw_rawfd *rf, struct gw_loop *loop, int fd, bool dup, const struct gw_rawfd_ops *ops,
		   void *owner);

/* Ask for on_writeable once the descriptor can be written (also from inside on_writeable: a write
 * that filled the descriptor's buffer asks for the rest). */
void gw_rawfd_want_write(struct gw_rawfd *rf);
/* Stop or resume on_rx. */
void gw_rawfd_rx_enable(struct gw_rawfd *rf, bool on);
/* Have lws close the descriptor at its next turn; on_close follows. */
void gw_rawfd_close(struct gw_rawfd *rf);
/* Forget the owner and have lws close the descriptor: no callback reaches the owner any more (for
 * an owner about to be freed). */
void gw_rawfd_detach(struct gw_rawfd *rf);

#endif
