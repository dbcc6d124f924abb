// TC_002_CS Cold Boot Charge Point – Pending: while Pending the charge point answers GetConfiguration
// and ChangeConfiguration, sends no requests of its own, and boots again after the interval.
import { remoteReboot, check, replyOf, sec, getConfiguration, changeConfiguration, waitConnectorStatuses, checkHeartbeats } from '../lib/steps.mjs';

const PENDING_INTERVAL = 10;
const H = 5;

export default {
  id: 'TC_002_CS',
  name: 'Cold Boot Charge Point - Pending',
  requirement: 'OCTT answers the BootNotification with Pending. While Pending the charge point must answer the '
    + 'central system\'s GetConfiguration and ChangeConfiguration (the change is Accepted and in effect) and must '
    + 'not send requests of its own; after the interval it sends BootNotification again, and once Accepted it '
    + 'reports its connectors Available and sends Heartbeats (OCPP 1.6 4.2: registration status Pending).',
  needs: ['boot'],
  config: { keys: { HeartbeatInterval: H, MeterValueSampleInterval: 5 } },
  timeoutMs: 90000,
  async run(ctx) {
    const { csms } = ctx;
    // Remote mode: the BootNotifications that count are those after the Reset that reboots it.
    let oldConn = 0;
    if (ctx.mode === 'remote') {
      if (!csms.client) await csms.waitForConnection(ctx.connectTimeoutMs, { since: 0 });
      oldConn = csms.client._ctConn;
    }
    let boots = 0;
    csms.handle('BootNotification', (p, entry) => {
      if (entry.conn <= oldConn) return undefined;
      boots += 1;
      const now = new Date().toISOString();
      return boots === 1
        ? { status: 'Pending', currentTime: now, interval: PENDING_INTERVAL }
        : { status: 'Accepted', currentTime: now, interval: H };
    });
    let since = 0;
    if (ctx.mode === 'remote') since = await remoteReboot(ctx);
    else await ctx.sut.start();
    const first = await csms.waitFor('BootNotification', undefined, 60000, { since });
    const pending = await replyOf(ctx, first);

    // While Pending: the central system reads and changes the configuration.
    const all = await getConfiguration(ctx);
    check(all.list.length > 0, 'GetConfiguration while Pending returned no keys');
    check(all.get('HeartbeatInterval'), 'GetConfiguration while Pending did not list HeartbeatInterval');
    if (ctx.mode === 'remote') ctx.connectors = Number(all.get('NumberOfConnectors')?.value || 1);
    const st = await changeConfiguration(ctx, 'MeterValueSampleInterval', '7');
    check(st === 'Accepted', `ChangeConfiguration MeterValueSampleInterval=7 while Pending answered ${st}, expected Accepted`);
    const after = await getConfiguration(ctx, ['MeterValueSampleInterval']);
    check(after.get('MeterValueSampleInterval')?.value === '7',
      `after ChangeConfiguration MeterValueSampleInterval=7, GetConfiguration reports ${JSON.stringify(after.get('MeterValueSampleInterval'))}`);

    const second = await csms.waitFor('BootNotification', undefined, PENDING_INTERVAL * 1000 + 30000, { since: first.seq + 1 });
    const gap = second.t - pending.t;
    check(gap >= PENDING_INTERVAL * 1000 - 500,
      `the BootNotification was repeated ${sec(gap)} after the Pending answer, before its interval of ${PENDING_INTERVAL} s`);
    await replyOf(ctx, second);
    const statuses = await waitConnectorStatuses(ctx, { since: second.seq, status: 'Available', timeoutMs: 45000 });
    const last = statuses.reduce((a, b) => (a.seq > b.seq ? a : b));
    await checkHeartbeats(ctx, { since: last.seq, interval: H });
  },
};
