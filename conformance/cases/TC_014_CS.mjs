// TC_014_CS Soft Reset Without Transaction.
import { resetCase } from '../lib/reset.mjs';

export default {
  id: 'TC_014_CS',
  name: 'Soft Reset Without Transaction',
  requirement: 'Reset type Soft with no transaction running is Accepted; the charge point restarts its '
    + 'application: the connection closes, a new one opens with BootNotification as its first request, and every '
    + 'connector is reported Available (OCPP 1.6 5.14).',
  needs: [],
  timeoutMs: 90000,
  run: (ctx) => resetCase(ctx, { type: 'Soft', withTx: false }),
};
