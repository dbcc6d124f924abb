// TC_016_CS Soft Reset With Transaction.
import { resetCase } from '../lib/reset.mjs';

export default {
  id: 'TC_016_CS',
  name: 'Soft Reset With Transaction',
  requirement: 'Reset type Soft during a transaction is Accepted; the charge point first stops the transaction '
    + 'gracefully (StopTransaction reason SoftReset, sent before it restarts, exactly once), then restarts: '
    + 'BootNotification on a new connection and its connectors reported (OCPP 1.6 5.14).',
  needs: ['stimulus'],
  timeoutMs: 100000,
  run: (ctx) => resetCase(ctx, { type: 'Soft', withTx: true }),
};
