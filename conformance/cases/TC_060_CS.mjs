// TC_060_CS Remote Start Transaction with Charging Profile – Rejected (purpose not TxProfile).
import { boot, check, requireSmartCharging, replyOf, chargingProfile, getCompositeSchedule, checkPeriods, TAG, plugPreparing } from '../lib/steps.mjs';

export default {
  id: 'TC_060_CS',
  name: 'Remote Start Transaction with Charging Profile - Rejected',
  profile: 'SmartCharging',
  requirement: 'RemoteStartTransaction whose chargingProfile does not have the purpose TxProfile is Rejected and '
    + 'starts nothing (the chargingProfile of a RemoteStartTransaction must have the purpose TxProfile, OCPP 1.6 5.11, '
    + '7.12): with a car plugged in and the connector Preparing, a '
    + 'TxDefaultProfile and a ChargePointMaxProfile are each Rejected, no StartTransaction follows, and the profile '
    + 'is not installed (GetCompositeSchedule still reports the 32 A wiring). The same request without a profile is '
    + 'then Accepted, so the rejection was the profile\'s.',
  needs: ['stimulus'],
  timeoutMs: 60000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    await requireSmartCharging(ctx);
    const since = await plugPreparing(ctx, 1);
    for (const purpose of ['TxDefaultProfile', 'ChargePointMaxProfile']) {
      const p = chargingProfile({ id: 601, stack: 0, purpose, kind: 'Relative', periods: [[0, 8]] });
      const r = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG, chargingProfile: p });
      check(r.status === 'Rejected', `RemoteStartTransaction with a chargingProfile of purpose ${purpose} answered ${r.status}, expected Rejected`);
    }
    await csms.expectNone('StartTransaction', undefined, 3000, { since, why: 'both RemoteStartTransaction requests were Rejected' });
    const c = await getCompositeSchedule(ctx, { connectorId: 1, duration: 300 });
    checkPeriods(c.periods, [[0, 32]], 'GetCompositeSchedule(connector 1, 300 s) after the Rejected requests (their 8 A profiles must not be installed)');

    const ok = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG });
    check(ok.status === 'Accepted', `RemoteStartTransaction without a profile on the same Preparing connector answered ${ok.status}, expected Accepted`);
    const start = await csms.waitFor('StartTransaction', { connectorId: 1, idTag: TAG }, 20000, { since });
    await replyOf(ctx, start);
  },
};
