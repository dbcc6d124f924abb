// TC_082_CS Central Smart Charging – TxDefaultProfile with an ongoing transaction.
import {
  boot, requireSmartCharging, remoteStartTx, chargingProfile, installProfile, getCompositeSchedule, checkPeriods,
  waitBusLimit,
} from '../lib/steps.mjs';

const LIMIT = 10;

export default {
  id: 'TC_082_CS',
  name: 'Central Smart Charging - TxDefaultProfile with ongoing transaction',
  profile: 'SmartCharging',
  requirement: 'A TxDefaultProfile set for a connector while a transaction runs on it, with no TxProfile for that '
    + 'transaction, is Accepted and applies to the running transaction at once (a TxProfile would overrule it; without '
    + 'one the TxDefaultProfile governs the transaction, and a newly installed profile applies from then on, OCPP 1.6 '
    + '3.13.1, 3.13.4, 5.16): GetCompositeSchedule '
    + 'reports its limit, and the connector is limited to it (twcgw: the Wall Connector is told 10 A within two bus '
    + 'heartbeat cycles, +1 s).',
  needs: ['stimulus'],
  timeoutMs: 60000,
  async run(ctx) {
    await boot(ctx);
    await requireSmartCharging(ctx);
    await remoteStartTx(ctx);
    await waitBusLimit(ctx, { amps: 32, timed: false, what: 'no profile: the wiring limit at the transaction start' });
    let c = await getCompositeSchedule(ctx, { connectorId: 1, duration: 300 });
    checkPeriods(c.periods, [[0, 32]], 'GetCompositeSchedule(connector 1, 300 s) during the transaction before any profile (the 32 A wiring)');

    const def = chargingProfile({ id: 821, stack: 0, purpose: 'TxDefaultProfile', kind: 'Relative', periods: [[0, LIMIT]] });
    const t0 = Date.now();
    await installProfile(ctx, 1, def);
    await waitBusLimit(ctx, { amps: LIMIT, t0, what: `SetChargingProfile TxDefaultProfile ${LIMIT} A during the transaction` });
    c = await getCompositeSchedule(ctx, { connectorId: 1, duration: 300 });
    checkPeriods(c.periods, [[0, LIMIT]], `GetCompositeSchedule(connector 1, 300 s) after the ${LIMIT} A TxDefaultProfile during the transaction`);
  },
};
