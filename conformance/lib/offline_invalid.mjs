// TC_037_2 / TC_037_3: a transaction started offline whose idTag the central system then declares Invalid
// in the StartTransaction.conf.
import { boot, check, plug, goOffline, reconnected, replyOf, getConfiguration, FIXED_TAG } from './steps.mjs';

export async function offlineInvalid(ctx, { stopOnInvalid }) {
  const { csms } = ctx;
  csms.handle('StartTransaction', () => ({ transactionId: ++csms.txCounter, idTagInfo: { status: 'Invalid' } }));
  await boot(ctx);
  const v = (await getConfiguration(ctx, ['StopTransactionOnInvalidId'])).get('StopTransactionOnInvalidId')?.value;
  check(v === String(stopOnInvalid), `StopTransactionOnInvalidId is ${v}, the case set ${stopOnInvalid}`);
  await goOffline(ctx);
  await csms.sleep(1000);
  await plug(ctx, 1);
  await csms.sleep(4000);
  const onSeq = csms.mark();
  await csms.goOnline();
  await reconnected(ctx, onSeq);
  const start = await csms.waitFor('StartTransaction', { connectorId: 1 }, 30000, { since: onSeq });
  check(start.payload.idTag.toLowerCase() === FIXED_TAG.toLowerCase(), `StartTransaction idTag ${start.payload.idTag}`);
  const reply = await replyOf(ctx, start);
  const txId = reply.payload.transactionId;
  if (stopOnInvalid) {
    const stop = await csms.waitFor('StopTransaction', { transactionId: txId }, 20000, { since: reply.seq });
    check(stop.payload.reason === 'DeAuthorized', `StopTransaction reason ${JSON.stringify(stop.payload.reason)}, expected DeAuthorized`);
  } else {
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'SuspendedEVSE' }, 20000, { since: reply.seq });
    await csms.expectNone('StopTransaction', undefined, 4000, { since: reply.seq, why: 'StopTransactionOnInvalidId is false: the transaction must go on' });
  }
}
