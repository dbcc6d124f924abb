/*
 * gw_mqtt: an MQTT subscriber on the gateway's one lws loop, through libmosquitto. libmosquitto's
 * socket is adopted into lws as a raw file (a dup(), so lws and libmosquitto close their own
 * descriptors), its keepalive work runs from an lws_sul, and host names resolve through gw_dns before
 * libmosquitto sees a numeric address; no thread, no blocking call. The client reconnects by itself
 * with a backoff and subscribes again after every connect. No other file in the gateway knows
 * libmosquitto exists.
 *
 * A message whose payload is over GW_MQTT_PAYLOAD_MAX never reaches the handler: it is dropped,
 * counted (gw_mqtt_dropped()) and logged at most once a minute. An MQTT 5 broker is also told not to
 * send packets over 256 KiB at all, so libmosquitto never buffers more; see gw_mqtt.c.
 *
 * Call only from the loop's thread. A handler may call gw_mqtt_stop() and gw_mqtt_connected(), but
 * not gw_mqtt_free().
 */
#ifndef GW_MQTT_H
#define GW_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>


/* The largest payload handed to on_message; a meter's reading is a few hundred bytes. */
#define GW_MQTT_PAYLOAD_MAX (16 * 1024)

struct gw_loop;
struct gw_mqtt;

struct gw_mqtt_handlers {
	void *user;
	/* A message on a subscribed topic; topic NUL-terminated, payload borrowed for the call. */
	void (*on_message)(void *user, const char *topic, const uint8_t *payload, size_t len);
	/* Connected and subscribed (true) / connection lost (false). Optional. */
	void (*on_link)(void *user, bool up);
};

struct gw_mqtt_params {
	const char *host;          /* name or address */
	int port;                  /* default 1883 when 0 */
	const char *username;      /* NULL or "": none */
	const char *password;      /* secret, never logged */
	const char *client_id;     /* NULL: "twcgw-<pid>" (then "twcgw-<pid>-<n>" for later clients in
				    * the process, since a broker drops a session whose id is reused) */
	const char *const *topics; /* subscribed at QoS 0 after every (re)connect */
	size_t n_topics;
	int keepalive_s;           /* 0: 30 */
	const char *name;          /* for logs, e.g. "ems[2] mqtt" */
	const char *will_topic;    /* NULL: no last will; else @will_payload, retained, QoS 1, published by
				    * the broker when the connection dies without a DISCONNECT */
	const char *will_payload;
	bool tls;                  /* TLS 1.2 or later; the broker's certificate checked against @ca_file
				    * (or the system's CAs) and @host, before anything is sent */
	const char *ca_file;       /* NULL: the system's CAs */
};

/* Start connecting at the next loop turn (copies everything). NULL on error (logged). */
struct gw_mqtt *gw_mqtt_new(struct gw_loop *loop, const struct gw_mqtt_params *p, const struct gw_mqtt_handlers *h);

/* Connected and subscribed: true between on_link(true) and on_link(false). */
bool gw_mqtt_connected(const struct gw_mqtt *m);

/* Publish @len bytes of @payload on @topic at QoS 1 (@retain: kept by the broker for later
 * subscribers). Queued in libmosquitto and written as the socket takes it. Return 0, -ENOTCONN
 * while not connected (nothing is queued for later: publishers send their state again on
 * on_link(true)), -EINVAL for a bad topic, -ENOMEM. */
int gw_mqtt_publish(struct gw_mqtt *m, const char *topic, const void *payload, size_t len, bool retain);

/* Messages dropped so far for a payload over GW_MQTT_PAYLOAD_MAX. */
uint32_t gw_mqtt_dropped(const struct gw_mqtt *m);

/* Cancel timers, disconnect, no handler after this: before lws_context_destroy(). */
void gw_mqtt_stop(struct gw_mqtt *m);
void gw_mqtt_free(struct gw_mqtt *m); /* NULL is a no-op; before or after lws_context_destroy() */


#endif
