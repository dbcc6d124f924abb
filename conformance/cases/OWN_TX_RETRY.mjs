// OWN_TX_RETRY: a transaction message the central system fails to process is retried with growing
// intervals, up to TransactionMessageAttempts, and never again once it succeeded.
import { createRPCError } from '../lib/csms.mjs';
import { boot, check, remoteStartTx, unplug, sec } from '../lib/steps.mjs';

const ATTEMPTS = 3;
const RETRY = 1; // TransactionMessageRetryInterval, s

export default {
  id: 'OWN_TX_RETRY',
  name: 'Transaction messages are retried after a CALLERROR',
  requirement: 'OCPP 1.6 4.10 / 9.1.31-32: when the central system answers a transaction-related message with '
    + 'a CALLERROR, the charge point sends it again after TransactionMessageRetryInterval x the number of '
    + 'attempts made so far, up to TransactionMessageAttempts. Here StopTransaction fails twice and then '
    + 'succeeds: it arrives exactly three times, the retries about 1 s and 2 s after the failures, and not '
    + 'again afterwards; the connection stays up.',
  needs: ['stimulus'],
  config: { keys: { TransactionMessageAttempts: ATTEMPTS, TransactionMessageRetryInterval: RETRY } },
  timeoutMs: 60000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const { transactionId } = await remoteStartTx(ctx);
    let failures = 0;
    csms.handle('StopTransaction', () => {
      if (failures < 2) {
        failures += 1;
        throw createRPCError('InternalError', 'conformance test: not processed');
      }
      return undefined;
    });
    const since = csms.mark();
    const conn = csms.client._ctConn;
    await unplug(ctx, 1);
    const s1 = await csms.waitFor('StopTransaction', { transactionId }, 20000, { since });
    const s2 = await csms.waitFor('StopTransaction', { transactionId }, RETRY * 1000 + 8000, { since: s1.seq + 1 });
    const s3 = await csms.waitFor('StopTransaction', { transactionId }, 2 * RETRY * 1000 + 8000, { since: s2.seq + 1 });
    for (const [a, b, k] of [[s1, s2, 1], [s2, s3, 2]]) {
      const d = b.t - a.reply.t;
      check(d >= k * RETRY * 1000 - 300, `retry ${k} came ${sec(d)} after the CALLERROR, before TransactionMessageRetryInterval x ${k} = ${k * RETRY} s`);
      check(d <= k * RETRY * 1000 + 5000, `retry ${k} came only ${sec(d)} after the CALLERROR (expected about ${k * RETRY} s)`);
    }
    await csms.sleep(5000);
    const all = csms.find('StopTransaction', { transactionId }, { since });
    check(all.length === 3, `StopTransaction sent ${all.length} times, expected 3 (two failures, one success)`);
    check(csms.client && csms.client._ctConn === conn, 'the connection did not stay up');
  },
};
