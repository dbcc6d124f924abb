// TC_038_CS Offline Stop Transaction: a transaction stopped while offline is reported after reconnect.
import { boot, check, remoteStartTx, unplug, goOffline, reconnected, ms, ackSettled } from '../lib/steps.mjs';

export default {
  id: 'TC_038_CS',
  name: 'Offline Stop Transaction',
  requirement: 'A transaction started online is stopped while the connection is down (here by unplugging the EV, '
    + 'reason EVDisconnected; in OCTT by the card, reason Local). After the connection is restored the queued '
    + 'StopTransaction is delivered with the transactionId, the time of the stop (not of the reconnect) and '
    + 'meterStop not below meterStart, exactly once, and the connector\'s status is reported '
    + '(OCPP 1.6 3.6, 4.10).',
  needs: ['stimulus'],
  timeoutMs: 100000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const { transactionId, start } = await remoteStartTx(ctx);
    await ackSettled(ctx, 1);
    await goOffline(ctx);
    await csms.sleep(1000);
    const tUnplug = Date.now();
    await unplug(ctx, 1);
    await csms.sleep(4000);
    const onSeq = csms.mark();
    const tOn = Date.now();
    await csms.goOnline();
    await reconnected(ctx, onSeq);
    const stop = await csms.waitFor('StopTransaction', { transactionId }, 30000, { since: onSeq });
    check(stop.payload.reason === 'EVDisconnected' || stop.payload.reason === 'Local' || stop.payload.reason === undefined,
      `StopTransaction reason ${stop.payload.reason}, expected EVDisconnected (the EV was unplugged)`);
    const t = ms(stop.payload.timestamp);
    check(t >= tUnplug - 1500 && t <= tOn, `StopTransaction timestamp ${stop.payload.timestamp} is not the time of the offline stop (unplugged at ${new Date(tUnplug).toISOString()}, back online at ${new Date(tOn).toISOString()})`);
    check(stop.payload.meterStop >= start.payload.meterStart, `meterStop ${stop.payload.meterStop} is below meterStart ${start.payload.meterStart}`);
    await csms.waitFor('StatusNotification', (p) => p.connectorId === 1 && ['Available', 'Finishing'].includes(p.status), 20000, { since: onSeq });
    await csms.sleep(1500);
    const stops = csms.find('StopTransaction', { transactionId }, { since: 0 });
    check(stops.length === 1, `StopTransaction sent ${stops.length} times`);
  },
};
