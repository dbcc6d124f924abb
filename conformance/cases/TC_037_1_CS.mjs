// TC_037_1_CS Offline Start Transaction – Valid IdTag (AllowOfflineTxForUnknownId with twcgw's fixed idTag).
import { boot, check, plug, goOffline, reconnected, replyOf, ms, FIXED_TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_037_1_CS',
  name: 'Offline Start Transaction - Valid IdTag',
  requirement: 'While the connection is down an EV is plugged in and identified (twcgw\'s fixed idTag, allowed '
    + 'offline by LocalAuthorizeOffline and AllowOfflineTxForUnknownId): the charge point starts the transaction '
    + 'locally. After the connection is restored it sends the queued StartTransaction (timestamp of the offline '
    + 'start), reports Charging, and uses the transactionId from the StartTransaction.conf in every later '
    + 'message of the transaction (OCPP 1.6 3.6 offline behaviour, 4.8, 9.1 AllowOfflineTxForUnknownId).',
  needs: ['stimulus', 'local'],
  config: {
    ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } },
    keys: { LocalAuthorizeOffline: true, AllowOfflineTxForUnknownId: true, MeterValueSampleInterval: 2 },
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
    const onSeq = csms.mark();
    const tOn = Date.now();
    await csms.goOnline();
    await reconnected(ctx, onSeq);
    const start = await csms.waitFor('StartTransaction', { connectorId: 1 }, 30000, { since: onSeq });
    check(start.payload.idTag.toLowerCase() === FIXED_TAG.toLowerCase(), `StartTransaction idTag ${start.payload.idTag}, expected ${FIXED_TAG}`);
    const t = ms(start.payload.timestamp);
    check(t >= tPlug - 1500 && t <= tOn, `StartTransaction timestamp ${start.payload.timestamp} is not the offline start (plugged at ${new Date(tPlug).toISOString()}, back online at ${new Date(tOn).toISOString()})`);
    const reply = await replyOf(ctx, start);
    const txId = reply.payload.transactionId;
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 20000, { since: onSeq });
    await csms.waitFor('MeterValues', { transactionId: txId }, 15000, { since: reply.seq });
    await csms.sleep(1000);
    const bad = csms.find('MeterValues', (p) => p.transactionId !== undefined && p.transactionId !== txId, { since: 0 });
    check(bad.length === 0, `MeterValues with a transactionId other than the one given (${txId}): ${csms.fmt(bad[0] || {})}`);
    const early = csms.find('MeterValues', (p) => p.transactionId !== undefined, { since: onSeq }).filter((e) => e.seq < reply.seq);
    check(early.length === 0, `MeterValues of the transaction sent before its StartTransaction was answered: ${csms.fmt(early[0] || {})}`);
    const starts = csms.find('StartTransaction', undefined, { since: 0 });
    check(starts.length === 1, `StartTransaction sent ${starts.length} times`);
  },
};
