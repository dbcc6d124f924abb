/*
 * gw_mqtt_status: twcgw on an MQTT broker, for Home Assistant and anything else that speaks MQTT.
 * It publishes, retained, <prefix>/status ("online", and "offline" as the last will), <prefix>/gateway
 * (the bus, the central system, the policy) and <prefix>/twc/<ID> per Wall Connector; it takes
 * commands on <prefix>/set/mode and <prefix>/set/twc/<ID>/maxAmps through gw_control and answers each
 * on <prefix>/result; and it announces every entity by Home Assistant MQTT discovery (one device for
 * the gateway, one per Wall Connector). Topics and payloads: docs/home-assistant.md.
 */
#ifndef GW_MQTT_STATUS_H
#define GW_MQTT_STATUS_H

#include "gw_config.h"

struct gw_loop;
struct gw_bus;
struct gw_ocpp;
struct gw_policy;
struct gw_control;
struct gw_mqtt_status;

/* @cfg->mqtt must be enabled; @ocpp may be NULL. NULL on error (logged). */
struct gw_mqtt_status *gw_mqtt_status_new(struct gw_loop *loop, const struct gw_config *cfg, struct gw_bus *bus,
					  struct gw_ocpp *ocpp, struct gw_policy *policy, struct gw_control *control);
/* Timers off, disconnect (the broker then keeps "offline" only on a lost link: a clean stop publishes
 * it first). Before lws_context_destroy(). NULL is a no-op. */
void gw_mqtt_status_stop(struct gw_mqtt_status *s);
void gw_mqtt_status_free(struct gw_mqtt_status *s);

#endif
