// The Reset cases (TC_013..016): Reset is Accepted, the connection closes, the charge point boots
// again on a new connection and reports its connectors; with a transaction, it is stopped with reason
// HardReset / SoftReset exactly once.
import { boot, check, remoteStartTx, replyOf, waitConnectorStatuses } from './steps.mjs';

export async function resetCase(ctx, { type, withTx }) {
  const { csms } = ctx;
  await boot(ctx);
  let tx = null;
  if (withTx) tx = await remoteStartTx(ctx);
  const since = csms.mark();
  const conn = csms.client._ctConn;
  const r = await csms.call('Reset', { type });
  check(r.status === 'Accepted', `Reset ${type} answered ${r.status}, expected Accepted`);
  const closed = await csms.waitForDisconnect(30000, { since, conn });
  const bootEntry = await csms.waitFor('BootNotification', undefined, 60000, { since });
  check(bootEntry.conn !== conn, 'the BootNotification after the Reset came on the old connection, the charge point did not restart');
  await replyOf(ctx, bootEntry);
  const first = csms.transcript.find((e) => e.conn === bootEntry.conn && e.dir === 'in' && e.type === 2);
  check(first === bootEntry, `after the reset the first request on the new connection was ${first?.action}, not BootNotification`);
  await waitConnectorStatuses(ctx, { since: bootEntry.seq, status: withTx ? null : 'Available', timeoutMs: 45000 });
  if (withTx) {
    const reason = type === 'Hard' ? 'HardReset' : 'SoftReset';
    const stop = await csms.waitFor('StopTransaction', { transactionId: tx.transactionId }, 30000, { since });
    check(stop.payload.reason === reason, `StopTransaction reason ${JSON.stringify(stop.payload.reason)}, expected ${reason}: ${csms.fmt(stop)}`);
    check(stop.payload.meterStop >= tx.start.payload.meterStart, `meterStop ${stop.payload.meterStop} is below meterStart ${tx.start.payload.meterStart}`);
    if (type === 'Soft') {
      // A soft reset stops the transactions gracefully before restarting.
      check(stop.conn === conn && stop.seq < closed.seq,
        'on a Soft reset the StopTransaction must be sent before the restart (it came after it)');
    }
    // Exactly once, also after the statuses have settled.
    await csms.sleep(2000);
    const stops = csms.find('StopTransaction', { transactionId: tx.transactionId }, { since: 0 });
    check(stops.length === 1, `StopTransaction for transaction ${tx.transactionId} was sent ${stops.length} times: ${stops.map((e) => csms.fmt(e)).join(' | ')}`);
  } else {
    await csms.sleep(1000);
    const stops = csms.find('StopTransaction', undefined, { since });
    check(stops.length === 0, `StopTransaction without a transaction: ${csms.fmt(stops[0] || {})}`);
  }
}
