/*
 * ems_meter_solaredge: the SolarEdge Modbus TCP steps: read the inverter block, then the meter block
 * and the battery block when configured, one read out at a time (framing and SunSpec decoding in
 * ems_modbus.c), and the socket's events. A stream that goes out of step (garbage, a read not
 * answered in time) is dropped and the gateway reconnects it.
 */
#include "ems_meter_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void ems_meter_solaredge_start(struct ems_meter *m)
{
	m->step = ST_SE_INV;
	m->rx_len = 0;
}

static void mb_block(enum step s, int se_meter, uint16_t *addr, uint16_t *count, const char **name)
{
	switch (s) {
	case ST_SE_METER:
		*addr = (uint16_t)(EMS_SE_METER1_ADDR + (unsigned)(se_meter - 1) * EMS_SE_METER_STRIDE);
		*count = EMS_SE_METER_COUNT;
		*name = "meter";
		break;
	case ST_SE_BATT:
		*addr = EMS_SE_BATTERY1_ADDR;
		*count = EMS_SE_BATTERY_COUNT;
		*name = "battery";
		break;
	default:
		*addr = EMS_SE_INVERTER_ADDR;
		*count = EMS_SE_INVERTER_COUNT;
		*name = "inverter";
		break;
	}
}

void ems_meter_solaredge_send(struct ems_meter *m, uint64_t now)
{
	uint8_t req[EMS_MODBUS_REQ_LEN];
	uint16_t addr, count;
	const char *name;
	int rc;

	mb_block(m->step, m->se_meter, &addr, &count, &name);
	snprintf(m->what, sizeof(m->what), "Modbus read of the %s block (%u, %u registers)", name, addr, count);
	m->tid++;
	rc = ems_modbus_read_request(req, m->tid, m->unit, addr, count);
	if (rc < 0) {
		m->st.failed++;
		ems_meter_fail(m, "could not build the request", NULL);
		ems_meter_cycle_end(m, now);
		return;
	}
	m->st.polls++;
	m->mb_out = true;
	m->mb_sent = now;
	m->mb_count = count;
	rc = m->env.modbus_write(m->env.user, req, (size_t)rc);
	if (rc >= 0)
		return;
	m->mb_out = false;
	if (rc == -ENOTCONN) {
		/* The gateway is (re)connecting: wait for modbus_up rather than retry into the void. Counted as
		 * one failed poll, except before the very first connection, which is only start-up. */
		m->mb_wait_up = true;
		if (m->mb_seen_up) {
			m->st.failed++;
			m->fails++;
			ems_meter_report(m, "not connected", NULL);
		}
		return;
	}
	m->st.failed++;
	ems_meter_fail(m, strerror(-rc), NULL);
	ems_meter_cycle_end(m, now);
}

/* The stream cannot be trusted any more: drop what is buffered and have the gateway reconnect. The
 * state is settled before the call, which may well come back as modbus_down. */
void ems_meter_solaredge_broken(struct ems_meter *m, const char *reason, uint64_t now)
{
	m->rx_len = 0;
	m->st.failed++;
	if (m->cycle && m->mb_out) {
		m->mb_out = false;
		ems_meter_fail(m, reason, NULL);
		ems_meter_cycle_end(m, now);
	} else {
		ems_meter_log(m, CORE_LOG_DEBUG, "Modbus: %s", reason);
	}
	if (m->env.modbus_reset)
		m->env.modbus_reset(m->env.user);
}

static void mb_answer(struct ems_meter *m, const struct ems_modbus_resp *resp, uint64_t now)
{
	char err[ERR_MAX] = "", reason[64];
	struct ems_reading r;
	unsigned mask;
	int rc;

	if (!m->cycle || !m->mb_out || resp->tid != m->tid) {
		/* a late answer to a request given up on */
		ems_meter_log(m, CORE_LOG_DEBUG, "Modbus: skipped an answer with transaction id %u", resp->tid);
		return;
	}
	m->mb_out = false;
	if (resp->exception) {
		m->st.failed++;
		snprintf(reason, sizeof(reason), "Modbus exception %u", resp->exception);
		ems_meter_fail(m, reason, NULL);
		ems_meter_cycle_end(m, now);
		return;
	}
	ems_reading_clear(&r);
	mask = m->step == ST_SE_METER ? BIT(EMS_GRID)
	       : m->step == ST_SE_BATT ? BIT(EMS_BATTERY) | BIT(EMS_SOC)
				       : BIT(EMS_PV);
	if (resp->n_regs != m->mb_count) {
		snprintf(err, sizeof(err), "%zu registers, %u asked for", resp->n_regs, m->mb_count);
		rc = -EINVAL;
	} else if (m->step == ST_SE_METER) {
		rc = ems_solaredge_meter(resp->regs, resp->n_regs, &r, err, sizeof(err));
	} else if (m->step == ST_SE_BATT) {
		rc = ems_solaredge_battery(resp->regs, resp->n_regs, &r, err, sizeof(err));
	} else {
		rc = ems_solaredge_inverter(resp->regs, resp->n_regs, &r, err, sizeof(err));
	}
	if (!ems_meter_take(m, rc, mask, &r, err, now)) {
		ems_meter_cycle_end(m, now);
		return;
	}
	if (m->step == ST_SE_INV && m->se_meter > 0)
		m->step = ST_SE_METER;
	else if (m->step != ST_SE_BATT && m->se_battery)
		m->step = ST_SE_BATT;
	else
		m->step = ST_NONE;
	ems_meter_cycle_advance(m, now);
}

/* ---------------------------------------------------------------- the socket */

void ems_meter_modbus_rx(struct ems_meter *m, const uint8_t *bytes, size_t len, uint64_t now_ms)
{
	struct ems_modbus_resp resp;

	if (!m || m->type != EMS_METER_SOLAREDGE || !bytes)
		return;
	while (len > 0) {
		size_t take_n = sizeof(m->rx) - m->rx_len;

		if (take_n > len)
			take_n = len;
		memcpy(m->rx + m->rx_len, bytes, take_n);
		m->rx_len += take_n;
		bytes += take_n;
		len -= take_n;
		for (;;) {
			int rc = ems_modbus_parse_response(m->rx, m->rx_len, &resp);

			if (rc == 0 && m->rx_len == sizeof(m->rx))
				rc = -EPROTO; /* no answer is this long */
			if (rc < 0) {
				ems_meter_solaredge_broken(m, "not a Modbus TCP answer", now_ms);
				return;
			}
			if (rc == 0)
				break;
			if ((size_t)rc > m->rx_len)
				rc = (int)m->rx_len;
			memmove(m->rx, m->rx + rc, m->rx_len - (size_t)rc);
			m->rx_len -= (size_t)rc;
			mb_answer(m, &resp, now_ms);
		}
	}
}

void ems_meter_modbus_up(struct ems_meter *m, uint64_t now_ms)
{
	if (!m || m->type != EMS_METER_SOLAREDGE)
		return;
	m->mb_seen_up = true;
	m->rx_len = 0;
	if (m->cycle && (m->mb_wait_up || m->mb_out)) {
		/* the waiting cycle goes on from its current step; a read that went to the old socket is
		 * made again on this one */
		m->mb_wait_up = false;
		m->mb_out = false;
		m->cycle_start = now_ms;
		ems_meter_cycle_advance(m, now_ms);
	} else if (!m->cycle && now_ms >= m->next_poll) {
		ems_meter_cycle_start(m, now_ms);
	}
}

void ems_meter_modbus_down(struct ems_meter *m, uint64_t now_ms)
{
	if (!m || m->type != EMS_METER_SOLAREDGE)
		return;
	m->rx_len = 0;
	if (m->cycle && m->mb_out) {
		m->mb_out = false;
		m->st.failed++;
		ems_meter_fail(m, "connection lost", NULL);
		ems_meter_cycle_end(m, now_ms);
	}
}
