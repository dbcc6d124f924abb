// TC_013_CS Hard Reset Without Transaction.
import { resetCase } from '../lib/reset.mjs';

export default {
  id: 'TC_013_CS',
  name: 'Hard Reset Without Transaction',
  requirement: 'Reset type Hard with no transaction running is Accepted; the charge point restarts: the '
    + 'connection closes, a new one opens with BootNotification as its first request, and every connector is '
    + 'reported Available; no StopTransaction is sent (OCPP 1.6 5.14).',
  needs: [],
  timeoutMs: 90000,
  run: (ctx) => resetCase(ctx, { type: 'Hard', withTx: false }),
};
