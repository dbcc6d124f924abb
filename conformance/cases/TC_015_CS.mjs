// TC_015_CS Hard Reset With Transaction.
import { resetCase } from '../lib/reset.mjs';

export default {
  id: 'TC_015_CS',
  name: 'Hard Reset With Transaction',
  requirement: 'Reset type Hard during a transaction is Accepted; the charge point restarts (BootNotification on '
    + 'a new connection, connectors reported) and the transaction is stopped with StopTransaction reason '
    + 'HardReset, before the restart or, if it could not be sent then, after the new BootNotification was '
    + 'accepted, exactly once (OCPP 1.6 5.14).',
  needs: ['stimulus'],
  timeoutMs: 100000,
  run: (ctx) => resetCase(ctx, { type: 'Hard', withTx: true }),
};
