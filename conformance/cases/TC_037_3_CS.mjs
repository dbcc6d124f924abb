// TC_037_3_CS Offline Start Transaction – Invalid IdTag, StopTransactionOnInvalidId true.
import { offlineInvalid } from '../lib/offline_invalid.mjs';
import { FIXED_TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_037_3_CS',
  name: 'Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId = true',
  requirement: 'A transaction started offline is reported after reconnect; the StartTransaction.conf says the '
    + 'idTag is Invalid. With StopTransactionOnInvalidId true the charge point stops the transaction: '
    + 'StopTransaction with reason DeAuthorized (OCPP 1.6 9.1.30, 4.8).',
  needs: ['stimulus', 'local'],
  config: {
    ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } },
    keys: { LocalAuthorizeOffline: true, AllowOfflineTxForUnknownId: true, StopTransactionOnInvalidId: true },
  },
  timeoutMs: 90000,
  run: (ctx) => offlineInvalid(ctx, { stopOnInvalid: true }),
};
