// TC_032_2_CS Power failure with transaction, no backup power: the transaction is stopped after the reboot.
import { boot, check, remoteStartTx, replyOf, ms, waitConnectorStatuses } from '../lib/steps.mjs';

export default {
  id: 'TC_032_2_CS',
  name: 'Power failure boot charging point - stop transaction(s) after reboot',
  requirement: 'Power is cut during a transaction (no backup power: nothing can be sent). After power returns '
    + 'the charge point sends BootNotification first, then StatusNotification for connector 0 and each '
    + 'connector, and stops the interrupted transaction with StopTransaction reason PowerLoss (meterStop not '
    + 'below meterStart, timestamp not before the start); no message of the transaction is duplicated '
    + '(OCPP 1.6 4.2, 4.10, 3.16 transaction message reliability).',
  needs: ['stimulus', 'powercut'],
  config: { keys: { MeterValueSampleInterval: 2 } },
  timeoutMs: 100000,
  async run(ctx) {
    const { csms, sut } = ctx;
    await boot(ctx);
    const { transactionId, start } = await remoteStartTx(ctx);
    const mv = await csms.waitFor('MeterValues', { transactionId }, 10000, { since: start.seq });
    await replyOf(ctx, mv);
    // Let the charge point take in the answer: a message killed before its CALLRESULT was processed
    // may rightly be sent again, which would not be a duplicate.
    await csms.sleep(700);
    const since = csms.mark();
    const tCut = Date.now();
    await sut.powerCut();
    const b = await csms.waitFor('BootNotification', undefined, 45000, { since });
    await replyOf(ctx, b);
    const first = csms.transcript.find((e) => e.conn === b.conn && e.dir === 'in' && e.type === 2);
    check(first === b, `after the power cut the first request was ${first?.action}, not BootNotification: ${csms.fmt(first)}`);
    await waitConnectorStatuses(ctx, { since: b.seq, status: null, timeoutMs: 45000 });
    const stop = await csms.waitFor('StopTransaction', { transactionId }, 30000, { since });
    check(stop.payload.reason === 'PowerLoss', `StopTransaction reason ${JSON.stringify(stop.payload.reason)}, expected PowerLoss: ${csms.fmt(stop)}`);
    check(stop.payload.meterStop >= start.payload.meterStart, `meterStop ${stop.payload.meterStop} is below meterStart ${start.payload.meterStart}`);
    const tStop = ms(stop.payload.timestamp);
    check(tStop >= ms(start.payload.timestamp), `StopTransaction timestamp ${stop.payload.timestamp} is before the start ${start.payload.timestamp}`);
    check(tStop <= Date.now() + 5000, `StopTransaction timestamp ${stop.payload.timestamp} is in the future`);
    if (tStop > tCut + 2000) ctx.log(`note: stop timestamp ${stop.payload.timestamp} is the reboot time, not the last time before the power cut`);
    await csms.sleep(2000);
    const starts = csms.find('StartTransaction', undefined, { since: 0 });
    check(starts.length === 1, `StartTransaction sent ${starts.length} times: ${starts.map((e) => csms.fmt(e)).join(' | ')}`);
    const stops = csms.find('StopTransaction', undefined, { since: 0 });
    check(stops.length === 1, `StopTransaction sent ${stops.length} times: ${stops.map((e) => csms.fmt(e)).join(' | ')}`);
    const seen = new Set();
    for (const e of csms.find('MeterValues', { transactionId }, { since: 0 })) {
      const k = e.payload.meterValue.map((mv) => mv.timestamp).join(',');
      check(!seen.has(k), `MeterValues for timestamp ${k} sent twice`);
      seen.add(k);
    }
  },
};
