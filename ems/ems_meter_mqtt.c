/*
 * ems_meter_mqtt: the MQTT meter, which has no cycle: every message the gateway hands in sets the
 * values whose topic it matches (ems_payload_number(), the user's scale and sign), and a value is as
 * old as its last message. A malformed payload and a lost broker link are logged once, until they mend.
 */
#include "ems_meter_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "ems_parse.h"

bool ems_meter_mqtt_topic_ok(const char *s)
{
	size_t n = strnlen(s, EMS_METER_KEY_MAX);

	/* a wildcard would never equal a message's topic */
	return n > 0 && n < EMS_METER_KEY_MAX && !strpbrk(s, "+#");
}

const char *ems_meter_mqtt_topic(const struct ems_meter *m, enum ems_value v)
{
	if (!m || m->type != EMS_METER_MQTT || (unsigned)v >= EMS_NVALUES || !m->src[v].set)
		return NULL;
	return m->src[v].key;
}

void ems_meter_mqtt_message(struct ems_meter *m, const char *topic, const uint8_t *payload, size_t len,
			    uint64_t now_ms)
{
	bool matched = false, gave = false;

	if (!m || m->type != EMS_METER_MQTT || !topic)
		return;
	if (!payload)
		len = 0;
	for (int v = 0; v < EMS_NVALUES; v++) {
		char err[ERR_MAX] = "";
		double x = NAN;
		int rc;

		if (!m->src[v].set || strcmp(m->src[v].key, topic))
			continue;
		matched = true;
		rc = ems_payload_number(payload ? (const char *)payload : "", len, m->src[v].pointer, &x, err,
					sizeof(err));
		if (rc == 0 && ems_meter_val_set(m, v, ems_meter_scaled(m, v, x), now_ms)) {
			gave = true;
			if (m->bad[v])
				ems_meter_log(m, CORE_LOG_INFO, "%s: readable again", topic);
			m->bad[v] = false;
		} else if (rc == -ENODATA) {
			ems_meter_vals_clear(m, BIT(v));
		} else {
			ems_meter_vals_clear(m, BIT(v));
			m->st.malformed++;
			ems_meter_log(m, m->bad[v] ? CORE_LOG_DEBUG : CORE_LOG_WARN, "%s: malformed payload: %s%s",
				      topic, *err ? err : "not a number",
				      m->bad[v] ? "" : "; unknown until a good one arrives");
			m->bad[v] = true;
		}
	}
	if (matched)
		m->st.messages++;
	if (gave)
		m->st.ok++;
}

void ems_meter_mqtt_link(struct ems_meter *m, bool up, uint64_t now_ms)
{
	(void)now_ms;
	if (!m || m->type != EMS_METER_MQTT)
		return;
	if (!up && !m->link_down) {
		m->link_down = true;
		m->st.failing = true;
		ems_meter_log(m, CORE_LOG_WARN, "MQTT broker link down; the values age out after %.3g s",
			      m->max_age_ms / 1000.0);
	} else if (up && m->link_down) {
		m->link_down = false;
		m->st.failing = false;
		ems_meter_log(m, CORE_LOG_INFO, "MQTT broker link back");
	}
}
