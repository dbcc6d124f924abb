// TC_036_CS Connection Loss During Transaction: MeterValues sampled offline are queued and sent later,
// in order, before new ones.
import { boot, check, remoteStartTx, goOffline, reconnected, ms, sec } from '../lib/steps.mjs';

const I = 2; // MeterValueSampleInterval
const OFFLINE_MS = 8000;

export default {
  id: 'TC_036_CS',
  name: 'Connection Loss During Transaction',
  requirement: 'The connection is lost during a transaction. The sampled MeterValues taken while offline are '
    + 'queued and, after the connection is restored, delivered in chronological order before any new ones, '
    + 'with timestamps spaced MeterValueSampleInterval apart, each with context Sample.Periodic and format Raw '
    + '(or the defaults) (OCPP 1.6 4.7, 3.16 transaction-related messages).',
  needs: ['stimulus'],
  config: { keys: { MeterValueSampleInterval: I } },
  timeoutMs: 100000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const { transactionId, start } = await remoteStartTx(ctx);
    await csms.waitFor('MeterValues', { transactionId }, I * 1000 + 8000, { since: start.seq });
    const tOff = Date.now();
    await goOffline(ctx);
    await csms.sleep(OFFLINE_MS);
    const onSeq = csms.mark();
    const tOn = Date.now();
    await csms.goOnline();
    await reconnected(ctx, onSeq);
    // Wait for a MeterValues sampled after the connection came back.
    const fresh = (p) => p.transactionId === transactionId && p.meterValue.some((mv) => ms(mv.timestamp) >= tOn + 500);
    fresh.desc = 'a MeterValues sampled after the reconnect';
    await csms.waitFor('MeterValues', fresh, 45000, { since: onSeq });

    const after = csms.find('MeterValues', { transactionId }, { since: onSeq });
    const times = after.flatMap((e) => e.payload.meterValue.map((mv) => ms(mv.timestamp)));
    const queued = times.filter((t) => t > tOff - 500 && t < tOn);
    check(queued.length >= Math.floor(OFFLINE_MS / 1000 / I) - 1,
      `only ${queued.length} MeterValues sampled during the ${sec(tOn - tOff)} offline were delivered after the reconnect (MeterValueSampleInterval ${I} s)`);
    for (let i = 1; i < times.length; i++) {
      check(times[i] >= times[i - 1], `MeterValues after the reconnect are not in chronological order: ${new Date(times[i - 1]).toISOString()} then ${new Date(times[i]).toISOString()}`);
      check(times[i] !== times[i - 1], `MeterValues for ${new Date(times[i]).toISOString()} delivered twice`);
    }
    // Spacing of the periodic samples across the whole transaction, offline ones included.
    const all = csms.find('MeterValues', { transactionId }, { since: 0 });
    const periodic = [...new Set(all.flatMap((e) => e.payload.meterValue
      .filter((mv) => mv.sampledValue.every((sv) => (sv.context || 'Sample.Periodic') === 'Sample.Periodic'))
      .map((mv) => ms(mv.timestamp))))].sort((a, b) => a - b);
    for (let i = 1; i < periodic.length; i++) {
      const d = periodic[i] - periodic[i - 1];
      check(Math.abs(d - I * 1000) <= 1000, `periodic samples ${new Date(periodic[i - 1]).toISOString()} and ${new Date(periodic[i]).toISOString()} are ${sec(d)} apart, expected MeterValueSampleInterval ${I} s`);
    }
    for (const e of after) {
      for (const mv of e.payload.meterValue) {
        for (const sv of mv.sampledValue) {
          check((sv.format || 'Raw') === 'Raw', `sampledValue format ${sv.format}, expected Raw: ${csms.fmt(e)}`);
        }
      }
    }
  },
};
