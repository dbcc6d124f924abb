// Steps the cases share: boot to Accepted with every connector reported, start a transaction the
// remote way or the local way, read and change configuration keys, and small checks on timestamps.
// Each step fails the case (CaseFailure) with a reason that names what was expected and what came.
import { CaseFailure, NotApplicable } from './csms.mjs';

export const TAG = 'CT-TAG-0001';
export const FIXED_TAG = 'CT-FIXED-0001';

export function check(cond, reason) {
  if (!cond) throw new CaseFailure(reason);
}

export function ms(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new CaseFailure(`unparsable timestamp ${JSON.stringify(iso)}`);
  return t;
}

export const sec = (x) => `${(x / 1000).toFixed(1)} s`;

/**
 * Start the charge point (local: fresh processes; remote: make sure it is connected) and wait for an
 * Accepted BootNotification followed by a StatusNotification for connector 0 and each connector.
 * @param {object} [o]
 * @param {string|null} [o.status] status every connector must report (null: any)
 * @param {boolean} [o.fresh] remote mode: reboot the charge point (Reset Hard) to observe a boot
 * @param {boolean} [o.connectors] wait for the connectors' StatusNotification (false: connector 0 only)
 * @returns {Promise<{boot: object, statuses: object[]}>}
 */
export async function boot(ctx, { status = 'Available', fresh = false, connectors = true, timeoutMs = 45000 } = {}) {
  const { csms } = ctx;
  if (ctx.mode === 'remote') {
    if (!csms.client) await csms.waitForConnection(ctx.connectTimeoutMs, { since: 0 });
    if (fresh) {
      const since = await remoteReboot(ctx);
      await csms.waitFor('BootNotification', undefined, 180000, { since });
    }
    await applyRemoteKeys(ctx);
    const cfg = await getConfiguration(ctx, ['NumberOfConnectors']);
    ctx.connectors = Number(cfg.get('NumberOfConnectors')?.value || 1);
    return { boot: null, statuses: [] };
  }
  await ctx.sut.start();
  const bootEntry = await csms.waitFor('BootNotification', accepted, timeoutMs, { since: 0 });
  const statuses = await waitConnectorStatuses(ctx, { since: bootEntry.seq, status, connectors, timeoutMs });
  return { boot: bootEntry, statuses };
}

export const accepted = Object.assign((p, e) => e.reply?.payload?.status === 'Accepted', { desc: 'answered Accepted' });

export async function waitConnectorStatuses(ctx, { since, status = 'Available', connectors = true, timeoutMs = 45000 }) {
  const list = [0];
  if (connectors) for (let c = 1; c <= ctx.connectors; c++) list.push(c);
  const out = [];
  for (const c of list) {
    const want = status ? { connectorId: c, status } : { connectorId: c };
    out.push(await ctx.csms.waitFor('StatusNotification', want, timeoutMs, { since }));
  }
  return out;
}

// Remote mode: the case's key values go over ChangeConfiguration (a remote charge point has no
// config file of ours). Read-only or unknown keys are logged and skipped.
async function applyRemoteKeys(ctx) {
  for (const [k, v] of Object.entries(ctx.caseKeys || {})) {
    const r = await ctx.csms.tryCall('ChangeConfiguration', { key: k, value: String(v) });
    ctx.log(`remote setup: ChangeConfiguration ${k}=${v}: ${r.result?.status || r.error}`);
  }
}

/** GetConfiguration (all keys, or `keys`); returns {list, unknown, get(key)} (keys are CiStrings). */
export async function getConfiguration(ctx, keys) {
  const r = await ctx.csms.call('GetConfiguration', keys ? { key: keys } : {});
  const list = r.configurationKey || [];
  const byKey = new Map(list.map((kv) => [kv.key.toLowerCase(), kv]));
  return { list, unknown: r.unknownKey || [], get: (k) => byKey.get(k.toLowerCase()) };
}

export async function changeConfiguration(ctx, key, value) {
  const r = await ctx.csms.call('ChangeConfiguration', { key, value: String(value) });
  return r.status;
}

export async function plug(ctx, connector = 1, amps = 32) {
  if (ctx.mode === 'remote') throw new NotApplicable('needs physical stimulus');
  await ctx.sut.plug(connector, amps);
}

export async function unplug(ctx, connector = 1) {
  if (ctx.mode === 'remote') throw new NotApplicable('needs physical stimulus');
  await ctx.sut.unplug(connector);
}

/** Plug a car into @connector and wait for its Preparing; returns the mark taken before the plug. */
export async function plugPreparing(ctx, connector = 1, timeoutMs = 20000) {
  const since = ctx.csms.mark();
  await plug(ctx, connector);
  await ctx.csms.waitFor('StatusNotification', { connectorId: connector, status: 'Preparing' }, timeoutMs, { since });
  return since;
}

/** Remote start with the cable plugged in first: Preparing, RemoteStart Accepted, StartTransaction
 * (answered with a new transactionId), Charging. */
export async function remoteStartTx(ctx, { connector = 1, idTag = TAG, timeoutMs = 30000 } = {}) {
  const { csms } = ctx;
  const since = csms.mark();
  await plug(ctx, connector);
  await csms.waitFor('StatusNotification', { connectorId: connector, status: 'Preparing' }, timeoutMs, { since });
  const r = await csms.call('RemoteStartTransaction', { connectorId: connector, idTag });
  check(r.status === 'Accepted', `RemoteStartTransaction on connector ${connector} answered ${r.status}, expected Accepted`);
  const start = await csms.waitFor('StartTransaction', { connectorId: connector, idTag }, timeoutMs, { since });
  await replyOf(ctx, start);
  await csms.waitFor('StatusNotification', { connectorId: connector, status: 'Charging' }, timeoutMs, { since });
  return { start, transactionId: start.reply.payload.transactionId, since };
}

/** Local start with the fixed idTag: plug, Preparing, (Authorize), StartTransaction, Charging. */
export async function fixedStartTx(ctx, { connector = 1, timeoutMs = 30000 } = {}) {
  const { csms } = ctx;
  const since = csms.mark();
  await plug(ctx, connector);
  const start = await csms.waitFor('StartTransaction', { connectorId: connector }, timeoutMs, { since });
  await replyOf(ctx, start);
  await csms.waitFor('StatusNotification', { connectorId: connector, status: 'Charging' }, timeoutMs, { since });
  return { start, transactionId: start.reply.payload.transactionId, since };
}

/** Wait until the CSMS has answered an inbound CALL entry. */
export async function replyOf(ctx, entry, timeoutMs = 10000) {
  if (entry.reply) return entry.reply;
  await ctx.csms._wait(`the CSMS's answer to ${entry.action}`, () => entry.reply, timeoutMs);
  return entry.reply;
}

/** Energy register (Wh) from a MeterValues sampledValue list, or null. */
export function energyWh(sampled) {
  const v = sampled.find((s) => (s.measurand || 'Energy.Active.Import.Register') === 'Energy.Active.Import.Register');
  if (!v) return null;
  const x = Number(v.value);
  return v.unit === 'kWh' ? x * 1000 : x;
}

/** All MeterValues timestamps (ms) in a MeterValues payload. */
export function mvTimes(p) {
  return (p.meterValue || []).map((mv) => ms(mv.timestamp));
}

/**
 * Heartbeats at the interval: the next Heartbeat must come at most `interval` (+ slack) after the
 * charge point's last exchange, and two consecutive Heartbeats with nothing between them must be
 * `interval` apart (± `tolMs`). Returns the two Heartbeat entries.
 */
export async function checkHeartbeats(ctx, { since, interval, tolMs = 1500 }) {
  const { csms } = ctx;
  const H = interval * 1000;
  const hb1 = await csms.waitFor('Heartbeat', undefined, H + 10000, { since });
  const before = csms.transcript.slice(0, hb1.seq).filter((e) => e.conn === hb1.conn && e.dir !== 'event').pop();
  if (before) {
    const idle = hb1.t - before.t;
    check(idle <= H + tolMs, `the first Heartbeat came ${sec(idle)} after the last exchange, expected within the HeartbeatInterval of ${interval} s: ${csms.fmt(hb1)}`);
  }
  const hb2 = await csms.waitFor('Heartbeat', undefined, H + 10000, { since: hb1.seq + 1 });
  const between = csms.transcript.slice(hb1.seq + 1, hb2.seq).filter((e) => e.dir === 'in' && e.type === 2);
  const gap = hb2.t - hb1.t;
  if (between.length === 0) {
    check(Math.abs(gap - H) <= tolMs, `two consecutive Heartbeats ${sec(gap)} apart, expected the HeartbeatInterval of ${interval} s (± ${sec(tolMs)})`);
  } else {
    check(gap <= H + tolMs, `Heartbeats ${sec(gap)} apart, more than the HeartbeatInterval of ${interval} s`);
  }
  return [hb1, hb2];
}

/** Wait until the charge point is reconnected after goOnline() (a connect event after `since`). */
export async function reconnected(ctx, since, timeoutMs = 45000) {
  return ctx.csms.waitForConnection(timeoutMs, { since });
}

/** The network goes away: drop the connection, refuse new ones, and wait for the drop to be seen. */
export async function goOffline(ctx) {
  const since = ctx.csms.mark();
  const conn = ctx.csms.client?._ctConn;
  await ctx.csms.goOffline();
  if (conn) await ctx.csms.waitForDisconnect(5000, { since, conn });
}

/** Remote mode: make the charge point boot (Reset Hard) and return the transcript position after its
 * old connection closed, from where its new BootNotification is to be looked for. */
export async function remoteReboot(ctx) {
  const { csms } = ctx;
  if (!csms.client) await csms.waitForConnection(ctx.connectTimeoutMs, { since: 0 });
  const since = csms.mark();
  const conn = csms.client._ctConn;
  const r = await csms.call('Reset', { type: 'Hard' });
  check(r.status === 'Accepted', `Reset Hard (to observe a boot) answered ${r.status}`);
  const closed = await csms.waitForDisconnect(60000, { since, conn });
  return closed.seq;
}

/** One whole session with the fixed idTag: plug, StartTransaction, Charging, unplug, StopTransaction,
 * Available. Returns the StartTransaction entry and the Authorize entries sent before it. */
export async function fixedSession(ctx, { connector = 1, tag = FIXED_TAG } = {}) {
  const { csms } = ctx;
  const since = csms.mark();
  await plug(ctx, connector);
  const start = await csms.waitFor('StartTransaction', { connectorId: connector }, 20000, { since });
  const reply = await replyOf(ctx, start);
  await csms.waitFor('StatusNotification', { connectorId: connector, status: 'Charging' }, 20000, { since });
  const auth = csms.find('Authorize', (p) => p.idTag.toLowerCase() === tag.toLowerCase(), { since }).filter((e) => e.seq < start.seq);
  await stopByUnplug(ctx, { connector, transactionId: reply.payload.transactionId });
  return { start, auth };
}

/** One whole remote session: plug, RemoteStartTransaction, StartTransaction, Charging, unplug, stop.
 * Returns the StartTransaction entry and the Authorize entries for the idTag sent before it. */
export async function remoteSession(ctx, { connector = 1, idTag = TAG } = {}) {
  const { csms } = ctx;
  const tx = await remoteStartTx(ctx, { connector, idTag });
  const auth = csms.find('Authorize', { idTag }, { since: tx.since }).filter((e) => e.seq < tx.start.seq);
  await stopByUnplug(ctx, { connector, transactionId: tx.transactionId });
  return { start: tx.start, auth };
}

/** Unplug the EV: StopTransaction for the transaction, then the connector Available. */
export async function stopByUnplug(ctx, { connector = 1, transactionId }) {
  const { csms } = ctx;
  const since = csms.mark();
  await unplug(ctx, connector);
  const stop = await csms.waitFor('StopTransaction', { transactionId }, 20000, { since });
  await csms.waitFor('StatusNotification', { connectorId: connector, status: 'Available' }, 20000, { since });
  return stop;
}

// ---- Smart Charging ----------------------------------------------------------------------------

/**
 * A csChargingProfiles object. `periods` is [[startPeriod, limit], ...]; `unit` 'A' or 'W';
 * `kind` Absolute (default), Relative or Recurring; `startSchedule` a Date, ms or ISO string.
 */
export function chargingProfile({ id, stack = 0, purpose, kind = 'Absolute', periods, unit = 'A', duration, startSchedule, transactionId, recurrencyKind }) {
  const schedule = {
    chargingRateUnit: unit,
    chargingSchedulePeriod: periods.map(([startPeriod, limit]) => ({ startPeriod, limit })),
  };
  if (duration !== undefined) schedule.duration = duration;
  if (startSchedule !== undefined) schedule.startSchedule = typeof startSchedule === 'string' ? startSchedule : new Date(startSchedule).toISOString();
  const p = { chargingProfileId: id, stackLevel: stack, chargingProfilePurpose: purpose, chargingProfileKind: kind, chargingSchedule: schedule };
  if (transactionId !== undefined) p.transactionId = transactionId;
  if (recurrencyKind !== undefined) p.recurrencyKind = recurrencyKind;
  return p;
}

/** SetChargingProfile; returns the status. */
export async function setChargingProfile(ctx, connectorId, profile) {
  const r = await ctx.csms.call('SetChargingProfile', { connectorId, csChargingProfiles: profile });
  ctx.log(`SetChargingProfile connector ${connectorId} id ${profile.chargingProfileId} (${profile.chargingProfilePurpose}, stack ${profile.stackLevel}): ${r.status}`);
  return r.status;
}

/** SetChargingProfile that must be Accepted. */
export async function installProfile(ctx, connectorId, profile) {
  const status = await setChargingProfile(ctx, connectorId, profile);
  check(status === 'Accepted', `SetChargingProfile connectorId ${connectorId} ${profile.chargingProfilePurpose} id ${profile.chargingProfileId} stackLevel ${profile.stackLevel} answered ${status}, expected Accepted`);
}

/** ClearChargingProfile with the given criteria; returns the status. */
export async function clearChargingProfile(ctx, criteria = {}) {
  const r = await ctx.csms.call('ClearChargingProfile', criteria);
  ctx.log(`ClearChargingProfile ${JSON.stringify(criteria)}: ${r.status}`);
  return r.status;
}

/**
 * Smart Charging must be among SupportedFeatureProfiles (twcgw: a failure if not; another charge
 * point: not applicable). Remote mode: every installed profile is cleared first, as OCTT's
 * housekeeping does, so that the case starts from no profile. Returns the GetConfiguration result for
 * the Smart Charging keys.
 */
export async function requireSmartCharging(ctx) {
  const keys = ['SupportedFeatureProfiles', 'ChargeProfileMaxStackLevel', 'ChargingScheduleAllowedChargingRateUnit',
    'ChargingScheduleMaxPeriods', 'MaxChargingProfilesInstalled'];
  const cfg = await getConfiguration(ctx, keys);
  const profiles = (cfg.get('SupportedFeatureProfiles')?.value || '').split(',').map((s) => s.trim());
  if (!profiles.includes('SmartCharging')) {
    const why = `SupportedFeatureProfiles is "${cfg.get('SupportedFeatureProfiles')?.value}", without SmartCharging`;
    if (ctx.mode === 'remote') ctx.na(why);
    ctx.fail(why);
  }
  if (ctx.mode === 'remote') await clearChargingProfile(ctx, {});
  return cfg;
}

/**
 * GetCompositeSchedule; fails unless Accepted with a chargingSchedule. Returns {r, periods, sentAt,
 * answeredAt}, periods as [[startPeriod, limit], ...].
 */
export async function getCompositeSchedule(ctx, { connectorId = 1, duration, unit } = {}) {
  const req = { connectorId, duration };
  if (unit) req.chargingRateUnit = unit;
  const sentAt = Date.now();
  const r = await ctx.csms.call('GetCompositeSchedule', req);
  const answeredAt = Date.now();
  check(r.status === 'Accepted', `GetCompositeSchedule ${JSON.stringify(req)} answered ${r.status}, expected Accepted`);
  check(r.chargingSchedule && Array.isArray(r.chargingSchedule.chargingSchedulePeriod),
    `GetCompositeSchedule ${JSON.stringify(req)} answered Accepted without a chargingSchedule: ${JSON.stringify(r)}`);
  const periods = r.chargingSchedule.chargingSchedulePeriod.map((p) => [p.startPeriod, p.limit]);
  ctx.log(`GetCompositeSchedule ${JSON.stringify(req)}: ${fmtPeriods(periods)} ${r.chargingSchedule.chargingRateUnit}, scheduleStart ${r.scheduleStart}`);
  return { r, periods, sentAt, answeredAt };
}

export const fmtPeriods = (periods) => `[${periods.map(([s, l]) => `{${s} s: ${l}}`).join(', ')}]`;

/** The composite's periods must be exactly `expected` ([[startPeriod, limit], ...]). */
export function checkPeriods(got, expected, what) {
  const same = got.length === expected.length && got.every(([s, l], i) => s === expected[i][0] && Math.abs(l - expected[i][1]) < 0.05);
  if (same) return;
  const i = got.findIndex(([s, l], k) => !expected[k] || s !== expected[k][0] || Math.abs(l - expected[k][1]) >= 0.05);
  const where = i < 0 ? `it has ${got.length} periods, expected ${expected.length}` : `period ${i} is ${got[i] ? `{${got[i][0]} s: ${got[i][1]}}` : 'missing'}, expected {${expected[i][0]} s: ${expected[i][1]}}`;
  throw new CaseFailure(`${what}: got ${fmtPeriods(got)}, expected ${fmtPeriods(expected)} (${where})`);
}

/**
 * The composite of a schedule given as absolute change instants, with the rules of GetCompositeSchedule:
 * periods start at whole seconds from `start` (ms), a change within the second a period began
 * replaces that period's limit, and equal adjacent periods are merged. `limitAt(t)` is the limit at
 * wall ms t; `changes` the instants (ms) at which it may change.
 */
export function compositeOf({ start, durationS, changes, limitAt }) {
  const end = start + durationS * 1000;
  const instants = [start, ...changes.filter((t) => t > start && t < end)].sort((a, b) => a - b);
  const out = [];
  for (const t of instants) {
    const rel = Math.floor((t - start) / 1000);
    const v = Math.round(limitAt(t) * 10) / 10;
    if (out.length && out.at(-1)[0] === rel) {
      out.at(-1)[1] = v;
      if (out.length > 1 && out.at(-2)[1] === v) out.pop();
    } else if (!out.length || out.at(-1)[1] !== v) {
      out.push([rel, v]);
    }
  }
  return out;
}

/** The simulated slave behind a connector (local mode), as twc-sim's `status` reports it. */
export async function simSlave(ctx, connector = 1) {
  if (ctx.mode === 'remote') throw new NotApplicable('needs the simulated Wall Connector bus');
  const st = await ctx.sut.simStatus();
  const s = st.slaves?.[ctx.sut.slaveOf(connector)];
  if (!s) throw new CaseFailure(`twc-sim status has no slave for connector ${connector}: ${JSON.stringify(st)}`);
  return s;
}

/**
 * Wait until the connector's slave shows its real state again: a Wall Connector answers state 09
 * (limit acknowledged) for about 12 s after the last 09 it was sent (twc-protocol.md section 4.4,
 * TWCManager #644), and while it does, an unplug cannot be seen by any master. A case that times an
 * unplug right after a new limit waits for this first, as a tester with a real Wall Connector would.
 */
export async function ackSettled(ctx, connector = 1, timeoutMs = 25000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await simSlave(ctx, connector);
    // Told a limit it charges at (the Charging status may come before the bus has told it), and
    // no longer acknowledging it.
    if (s.toldAmps > 0 && s.state !== 9) return;
    if (Date.now() > end) throw new CaseFailure(`the slave of connector ${connector} is not charging on a settled limit after ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** How long a new limit may take to reach the bus: two heartbeat cycles (about 1 s per slave each)
 * plus 1 s. */
export const busLimitMaxMs = (ctx) => 2 * 1000 * (ctx.sut.slaves || 1) + 1000;

/**
 * Poll twc-sim until the master has told the connector's slave `amps` (toldAmps), counting from
 * `t0` (Date.now() when the request that changes the limit was sent). Fails if that takes longer
 * than busLimitMaxMs; waits up to `giveUpMs` to say how long it did take. Logs and returns the
 * elapsed ms. `timed: false` only waits (up to giveUpMs).
 */
export async function waitBusLimit(ctx, { connector = 1, amps, t0 = Date.now(), what = 'the new limit', giveUpMs = 10000, timed = true }) {
  const maxMs = timed ? busLimitMaxMs(ctx) : giveUpMs;
  let s;
  for (;;) {
    s = await simSlave(ctx, connector);
    const elapsed = Date.now() - t0;
    if (s.toldAmps === amps) {
      ctx.log(`${what}: ${amps} A on the bus after ${elapsed} ms${timed ? ` (allowed ${maxMs} ms)` : ''}`);
      check(!timed || elapsed <= maxMs, `${what} (${amps} A) reached the bus after ${elapsed} ms, more than the ${maxMs} ms allowed (two bus heartbeat cycles of about 1 s with ${ctx.sut.slaves} slave(s), plus 1 s)`);
      return elapsed;
    }
    if (elapsed > giveUpMs) {
      throw new CaseFailure(`${what} (${amps} A) never reached the bus: after ${elapsed} ms the slave of connector ${connector} is still told ${s.toldAmps} A (allowed ${maxMs} ms); twc-sim: ${JSON.stringify(s)}`);
    }
    await ctx.sleep(25);
  }
}

/** Record the highest toldAmps of a connector's slave until stop() (polled every 25 ms). */
export function watchTold(ctx, connector = 1) {
  const w = { max: -Infinity, samples: 0, running: true };
  w.done = (async () => {
    while (w.running) {
      try {
        const s = await simSlave(ctx, connector);
        if (s.toldAmps > w.max) w.max = s.toldAmps;
        w.samples++;
      } catch (err) {
        if (!w.running) break;
        w.error = err;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  // One last sample at stop(), so the watch covers everything up to that moment (the loop may have
  // been asleep when the value the caller just saw arrived).
  w.stop = async () => {
    w.running = false;
    await w.done;
    if (!w.error) {
      const s = await simSlave(ctx, connector);
      if (s.toldAmps > w.max) w.max = s.toldAmps;
      w.samples++;
    }
    return w;
  };
  return w;
}
