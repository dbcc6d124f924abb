// TC_039_CS Offline Transaction: a whole transaction while offline is reported after reconnect.
import { boot, check, plug, unplug, goOffline, reconnected, replyOf, ms, FIXED_TAG, ackSettled } from '../lib/steps.mjs';

export default {
  id: 'TC_039_CS',
  name: 'Offline Transaction',
  requirement: 'A transaction is started and stopped while the connection is down. After the connection is '
    + 'restored the charge point sends the queued StartTransaction and then the StopTransaction, which carries '
    + 'the transactionId given in the StartTransaction.conf; each exactly once, with the offline timestamps '
    + '(OCPP 1.6 3.6, 3.16, 4.8, 4.10).',
  needs: ['stimulus', 'local'],
  config: {
    ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } },
    keys: { LocalAuthorizeOffline: true, AllowOfflineTxForUnknownId: true },
  },
  timeoutMs: 100000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    await goOffline(ctx);
    await csms.sleep(1000);
    const tPlug = Date.now();
    await plug(ctx, 1);
    await csms.sleep(5000);
    await ackSettled(ctx, 1);
    const tUnplug = Date.now();
    await unplug(ctx, 1);
    await csms.sleep(3000);
    const onSeq = csms.mark();
    const tOn = Date.now();
    await csms.goOnline();
    await reconnected(ctx, onSeq);
    const start = await csms.waitFor('StartTransaction', { connectorId: 1 }, 30000, { since: onSeq });
    const reply = await replyOf(ctx, start);
    const txId = reply.payload.transactionId;
    const stop = await csms.waitFor('StopTransaction', undefined, 30000, { since: onSeq });
    check(stop.seq > reply.seq, 'StopTransaction was sent before the StartTransaction was answered');
    check(stop.payload.transactionId === txId, `StopTransaction carries transactionId ${stop.payload.transactionId}, not the ${txId} given in StartTransaction.conf`);
    const t1 = ms(start.payload.timestamp);
    const t2 = ms(stop.payload.timestamp);
    check(t1 >= tPlug - 1500 && t1 <= tUnplug, `StartTransaction timestamp ${start.payload.timestamp} is not the offline start`);
    check(t2 >= tUnplug - 1500 && t2 <= tOn, `StopTransaction timestamp ${stop.payload.timestamp} is not the offline stop`);
    check(stop.payload.meterStop >= start.payload.meterStart, `meterStop ${stop.payload.meterStop} is below meterStart ${start.payload.meterStart}`);
    await csms.sleep(2000);
    check(csms.find('StartTransaction', undefined, { since: 0 }).length === 1, 'StartTransaction sent more than once');
    check(csms.find('StopTransaction', undefined, { since: 0 }).length === 1, 'StopTransaction sent more than once');
  },
};
