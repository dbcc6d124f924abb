// TC_001_CS Cold Boot Charge Point: Rejected first, retry after the interval, then Accepted,
// StatusNotification for connector 0 and every connector, Heartbeats at the interval.
import { remoteReboot, check, replyOf, sec, waitConnectorStatuses, checkHeartbeats } from '../lib/steps.mjs';

const REJECT_INTERVAL = 5;
const H = 4;

export default {
  id: 'TC_001_CS',
  name: 'Cold Boot Charge Point',
  requirement: 'After a power cycle the charge point sends BootNotification. OCTT first answers Rejected with an '
    + 'interval: the charge point must send nothing else and retry the BootNotification only once that interval '
    + 'has passed. On Accepted it sends StatusNotification (Available) for connector 0 and for each connector, '
    + 'and then Heartbeat at the interval given in the BootNotification.conf (OCPP 1.6 4.2, 4.6, 4.9).',
  needs: ['boot'],
  config: { slaves: 2, keys: { HeartbeatInterval: H } },
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
        ? { status: 'Rejected', currentTime: now, interval: REJECT_INTERVAL }
        : { status: 'Accepted', currentTime: now, interval: H };
    });
    let since = 0;
    if (ctx.mode === 'remote') since = await remoteReboot(ctx);
    else await ctx.sut.start();
    const first = await csms.waitFor('BootNotification', undefined, 60000, { since });
    const rejected = await replyOf(ctx, first);
    const second = await csms.waitFor('BootNotification', undefined, REJECT_INTERVAL * 1000 + 30000, { since: first.seq + 1 });
    const gap = second.t - rejected.t;
    check(gap >= REJECT_INTERVAL * 1000 - 500,
      `the BootNotification was retried ${sec(gap)} after the Rejected answer, before its interval of ${REJECT_INTERVAL} s: ${csms.fmt(second)}`);
    await replyOf(ctx, second);
    if (ctx.mode === 'remote') {
      const n = await csms.call('GetConfiguration', { key: ['NumberOfConnectors'] });
      ctx.connectors = Number(n.configurationKey?.[0]?.value || 1);
    }
    const statuses = await waitConnectorStatuses(ctx, { since: second.seq, status: 'Available', timeoutMs: 45000 });
    const last = statuses.reduce((a, b) => (a.seq > b.seq ? a : b));
    await checkHeartbeats(ctx, { since: last.seq, interval: H });
  },
};
