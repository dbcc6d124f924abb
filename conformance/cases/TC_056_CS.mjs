// TC_056_CS Central Smart Charging – TxDefaultProfile: the default profile applies to new transactions.
import {
  boot, check, remoteStartTx, requireSmartCharging, chargingProfile, installProfile, getCompositeSchedule,
  checkPeriods, waitBusLimit, watchTold,
} from '../lib/steps.mjs';

const LIMIT = 10;

export default {
  id: 'TC_056_CS',
  name: 'Central Smart Charging - TxDefaultProfile',
  profile: 'SmartCharging',
  requirement: 'SetChargingProfile with a TxDefaultProfile for connectorId 0 (all connectors) while no transaction '
    + 'runs is Accepted, and a transaction started afterwards is limited by it (a TxDefaultProfile is the default '
    + 'schedule of new transactions; on connectorId 0 it applies to every connector, OCPP 1.6 3.13.1, 5.16): '
    + 'GetCompositeSchedule for the connector reports the default limit before and during '
    + 'the transaction, and the connector is never offered more (twcgw: the Wall Connector is told 10 A, never the '
    + '32 A of the wiring).',
  needs: ['stimulus'],
  timeoutMs: 60000,
  async run(ctx) {
    await boot(ctx);
    await requireSmartCharging(ctx);
    const def = chargingProfile({ id: 561, stack: 0, purpose: 'TxDefaultProfile', kind: 'Relative', periods: [[0, LIMIT]] });
    await installProfile(ctx, 0, def);

    // Before any transaction: what a transaction starting now would get.
    let c = await getCompositeSchedule(ctx, { connectorId: 1, duration: 300 });
    checkPeriods(c.periods, [[0, LIMIT]], `GetCompositeSchedule(connector 1, 300 s) with the ${LIMIT} A TxDefaultProfile on connector 0 and no transaction`);

    // A new transaction: the default profile governs it from its start.
    const watch = watchTold(ctx, 1);
    const { start } = await remoteStartTx(ctx);
    const ms = await waitBusLimit(ctx, { amps: LIMIT, t0: start.t, what: `the TxDefaultProfile at the transaction start (from StartTransaction)` });
    const w = await watch.stop();
    if (w.error) throw w.error;
    check(w.max === LIMIT, `from the plug-in to ${ms} ms after StartTransaction the Wall Connector was told at most ${w.max} A (${w.samples} samples), expected exactly the TxDefaultProfile's ${LIMIT} A and never more`);
    c = await getCompositeSchedule(ctx, { connectorId: 1, duration: 300 });
    checkPeriods(c.periods, [[0, LIMIT]], `GetCompositeSchedule(connector 1, 300 s) during the new transaction`);
  },
};
