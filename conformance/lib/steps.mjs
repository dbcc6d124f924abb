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
