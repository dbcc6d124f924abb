// TC_058_1_CS Central Smart Charging – No ongoing transaction: a TxProfile is Rejected.
import { boot, check, requireSmartCharging, chargingProfile, setChargingProfile, getCompositeSchedule } from '../lib/steps.mjs';

export default {
  id: 'TC_058_1_CS',
  name: 'Central Smart Charging - No ongoing transaction',
  profile: 'SmartCharging',
  requirement: 'SetChargingProfile with a TxProfile for a connector on which no transaction runs is Rejected '
    + '("If there is no transaction active on the connector specified in a charging profile of type TxProfile, then '
    + 'the Charge Point SHALL discard it and return an error status in SetChargingProfile.conf", OCPP 1.6 5.16.3), '
    + 'and it changes nothing: GetCompositeSchedule for the connector reports the same schedule as before.',
  needs: [],
  async run(ctx) {
    await boot(ctx, { connectors: ctx.mode === 'local' });
    await requireSmartCharging(ctx);
    const before = await getCompositeSchedule(ctx, { connectorId: 1, duration: 300 });
    const tx = chargingProfile({ id: 581, stack: 0, purpose: 'TxProfile', kind: 'Relative', periods: [[0, 8]] });
    const status = await setChargingProfile(ctx, 1, tx);
    check(status === 'Rejected', `SetChargingProfile TxProfile (8 A) for connector 1 with no transaction running answered ${status}, expected Rejected`);
    const after = await getCompositeSchedule(ctx, { connectorId: 1, duration: 300 });
    check(JSON.stringify(after.periods) === JSON.stringify(before.periods),
      `the Rejected TxProfile changed the composite schedule of connector 1: before ${JSON.stringify(before.periods)}, after ${JSON.stringify(after.periods)}`);
  },
};
