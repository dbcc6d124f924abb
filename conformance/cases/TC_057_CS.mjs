// TC_057_CS Central Smart Charging – TxProfile: set during a transaction, Accepted and followed.
import {
  boot, check, remoteStartTx, requireSmartCharging, chargingProfile, installProfile, clearChargingProfile,
  getCompositeSchedule, checkPeriods, waitBusLimit,
} from '../lib/steps.mjs';

export default {
  id: 'TC_057_CS',
  name: 'Central Smart Charging - TxProfile',
  profile: 'SmartCharging',
  requirement: 'During a transaction, SetChargingProfile with a TxProfile carrying the running transactionId is '
    + 'Accepted and the charge point follows it: GetCompositeSchedule reports its limit and the connector is '
    + 'limited to it (a TxProfile constrains one specific transaction, OCPP 1.6 3.13.1, 5.16). A limit below what the '
    + 'EVSE can offer (twcgw: below minAmpsPerTWC, 6 A) suspends charging: StatusNotification SuspendedEVSE (the EVSE '
    + 'offers no energy, e.g. because of a smart charging restriction, 7.7). twcgw: the new limit '
    + 'reaches the Wall Connector within two bus heartbeat cycles (+1 s).',
  needs: ['stimulus'],
  timeoutMs: 90000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    await requireSmartCharging(ctx);
    const { transactionId } = await remoteStartTx(ctx);
    await waitBusLimit(ctx, { amps: 32, timed: false, what: 'no profile: the wiring limit at the transaction start' });

    // 10 A for this transaction: Accepted, reported, and on the bus within two heartbeat cycles.
    const tx10 = chargingProfile({ id: 571, stack: 0, purpose: 'TxProfile', kind: 'Relative', transactionId, periods: [[0, 10]] });
    const t0 = Date.now();
    await installProfile(ctx, 1, tx10);
    await waitBusLimit(ctx, { amps: 10, t0, what: 'SetChargingProfile TxProfile 10 A' });
    let c = await getCompositeSchedule(ctx, { connectorId: 1, duration: 60 });
    checkPeriods(c.periods, [[0, 10]], 'GetCompositeSchedule(connector 1, 60 s) after the 10 A TxProfile');
    check(c.r.chargingSchedule.chargingRateUnit === 'A', `composite chargingRateUnit ${c.r.chargingSchedule.chargingRateUnit}, expected A (none asked for)`);

    // 4 A at a higher stack level: below the 6 A a Wall Connector can offer, so the EVSE suspends charging.
    let since = csms.mark();
    const tx4 = chargingProfile({ id: 572, stack: 1, purpose: 'TxProfile', kind: 'Relative', transactionId, periods: [[0, 4]] });
    const t1 = Date.now();
    await installProfile(ctx, 1, tx4);
    const susp = await csms.waitFor('StatusNotification', { connectorId: 1, status: 'SuspendedEVSE' }, 10000, { since });
    ctx.log(`SuspendedEVSE ${susp.t - t1} ms after SetChargingProfile 4 A`);
    await waitBusLimit(ctx, { amps: 0, t0: t1, what: 'SetChargingProfile TxProfile 4 A (below 6 A: paused)' });
    c = await getCompositeSchedule(ctx, { connectorId: 1, duration: 60 });
    checkPeriods(c.periods, [[0, 4]], 'GetCompositeSchedule(connector 1, 60 s) with the 4 A TxProfile at stack 1 over the 10 A one');

    // Clearing the 4 A profile gives the transaction its 10 A again and it charges again.
    since = csms.mark();
    const t2 = Date.now();
    const st = await clearChargingProfile(ctx, { id: 572 });
    check(st === 'Accepted', `ClearChargingProfile id 572 answered ${st}, expected Accepted`);
    await waitBusLimit(ctx, { amps: 10, t0: t2, what: 'ClearChargingProfile of the 4 A TxProfile (back to 10 A)' });
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 10000, { since });
  },
};
