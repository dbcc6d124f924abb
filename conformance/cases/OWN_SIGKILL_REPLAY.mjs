// OWN_SIGKILL_REPLAY: transaction messages queued while offline survive SIGKILL and are replayed once.
import { boot, check, plug, unplug, goOffline, replyOf, ms, FIXED_TAG } from '../lib/steps.mjs';

export default {
  id: 'OWN_SIGKILL_REPLAY',
  name: 'Queued transaction messages survive SIGKILL',
  requirement: 'OCPP 1.6 3.16 and 4.8-4.10: transaction-related messages must reach the central system even if '
    + 'the charge point loses its connection or restarts. A transaction starts while the central system is '
    + 'unreachable (provisional id), MeterValues are sampled, then the process is killed (SIGKILL) and the EV '
    + 'leaves while it is down. After restart and reconnect, after BootNotification: StartTransaction, the '
    + 'MeterValues and StopTransaction (reason PowerLoss) each arrive exactly once, in that order, in chronological '
    + 'order, and every message after StartTransaction.conf carries the transactionId the central system gave.',
  needs: ['stimulus', 'powercut', 'local'],
  config: {
    ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } },
    keys: { LocalAuthorizeOffline: true, AllowOfflineTxForUnknownId: true, MeterValueSampleInterval: 2 },
  },
  timeoutMs: 110000,
  async run(ctx) {
    const { csms, sut } = ctx;
    await boot(ctx);
    await goOffline(ctx);
    await csms.sleep(1000);
    const tPlug = Date.now();
    await plug(ctx, 1);
    await csms.sleep(7000);
    const tKill = Date.now();
    await sut.powerCut({ whileDown: async () => { await unplug(ctx, 1); await csms.sleep(500); } });
    await csms.sleep(4000); // twcgw is back but the central system is still unreachable
    const onSeq = csms.mark();
    await csms.goOnline();
    const b = await csms.waitFor('BootNotification', undefined, 45000, { since: onSeq });
    await replyOf(ctx, b);
    const start = await csms.waitFor('StartTransaction', { connectorId: 1 }, 30000, { since: onSeq });
    check(start.seq > b.seq, 'StartTransaction before BootNotification');
    const reply = await replyOf(ctx, start);
    const txId = reply.payload.transactionId;
    const stop = await csms.waitFor('StopTransaction', undefined, 30000, { since: onSeq });
    await csms.sleep(3000);

    const starts = csms.find('StartTransaction', undefined, { since: 0 });
    const stops = csms.find('StopTransaction', undefined, { since: 0 });
    check(starts.length === 1, `StartTransaction sent ${starts.length} times: ${starts.map((e) => csms.fmt(e)).join(' | ')}`);
    check(stops.length === 1, `StopTransaction sent ${stops.length} times: ${stops.map((e) => csms.fmt(e)).join(' | ')}`);
    const t1 = ms(start.payload.timestamp);
    check(t1 >= tPlug - 1500 && t1 <= tKill, `StartTransaction timestamp ${start.payload.timestamp} is not the offline start`);
    check(stop.payload.transactionId === txId, `StopTransaction transactionId ${stop.payload.transactionId}, expected ${txId} from StartTransaction.conf (the provisional id was not replaced)`);
    check(stop.payload.reason === 'PowerLoss', `StopTransaction reason ${JSON.stringify(stop.payload.reason)}, expected PowerLoss`);
    check(stop.seq > reply.seq, 'StopTransaction sent before StartTransaction was answered');
    check(ms(stop.payload.timestamp) >= t1, 'StopTransaction timestamp before the start');
    check(stop.payload.meterStop >= start.payload.meterStart, `meterStop ${stop.payload.meterStop} is below meterStart ${start.payload.meterStart}`);

    const mvs = csms.find('MeterValues', (p) => p.transactionId !== undefined, { since: 0 });
    check(mvs.length >= 1, `no MeterValues of the offline transaction were replayed (about ${Math.floor((tKill - tPlug) / 2000)} were sampled)`);
    const times = [];
    for (const e of mvs) {
      check(e.payload.transactionId === txId, `MeterValues with transactionId ${e.payload.transactionId}, expected ${txId} (provisional id leaked): ${csms.fmt(e)}`);
      check(e.seq > reply.seq && e.seq < stop.seq, `MeterValues out of order (must come after StartTransaction.conf and before StopTransaction): ${csms.fmt(e)}`);
      for (const mv of e.payload.meterValue) times.push(ms(mv.timestamp));
    }
    for (let i = 1; i < times.length; i++) {
      check(times[i] > times[i - 1], `MeterValues not in chronological order or duplicated: ${new Date(times[i - 1]).toISOString()} then ${new Date(times[i]).toISOString()}`);
    }
    check(times.every((t) => t <= tKill + 1000), 'MeterValues sampled after the power cut for a transaction that ended with it');
  },
};
