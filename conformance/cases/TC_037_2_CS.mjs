// TC_037_2_CS Offline Start Transaction – Invalid IdTag, StopTransactionOnInvalidId false.
import { offlineInvalid } from '../lib/offline_invalid.mjs';
import { FIXED_TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_037_2_CS',
  name: 'Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId = false',
  requirement: 'A transaction started offline is reported after reconnect; the StartTransaction.conf says the '
    + 'idTag is Invalid. With StopTransactionOnInvalidId false the charge point keeps the transaction but stops '
    + 'delivering energy: the connector reports SuspendedEVSE and no StopTransaction is sent (OCPP 1.6 9.1.30: '
    + '"If false, the Charge Point SHALL only stop energy delivery").',
  needs: ['stimulus', 'local'],
  config: {
    ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } },
    keys: { LocalAuthorizeOffline: true, AllowOfflineTxForUnknownId: true, StopTransactionOnInvalidId: false },
  },
  timeoutMs: 90000,
  run: (ctx) => offlineInvalid(ctx, { stopOnInvalid: false }),
};
