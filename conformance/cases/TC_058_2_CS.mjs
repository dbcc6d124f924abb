// TC_058_2_CS Central Smart Charging – Wrong transactionId: a TxProfile for another transaction is Rejected.
import {
  boot, check, requireSmartCharging, remoteStartTx, chargingProfile, setChargingProfile, getCompositeSchedule,
  checkPeriods, simSlave, waitBusLimit,
} from '../lib/steps.mjs';

export default {
  id: 'TC_058_2_CS',
  name: 'Central Smart Charging - Wrong transactionId',
  profile: 'SmartCharging',
  requirement: 'During a transaction, SetChargingProfile with a TxProfile whose transactionId is not that of the '
    + 'transaction running on the connector is Rejected (a TxProfile with a transactionId applies only to that '
    + 'transaction; with none active the Charge Point "SHALL discard it and return an error status", OCPP 1.6 '
    + '3.13.1, 5.16.3, 7.11), and the running transaction keeps its limit: GetCompositeSchedule still reports the '
    + '32 A wiring and the Wall Connector is still told 32 A.',
  needs: ['stimulus'],
  timeoutMs: 60000,
  async run(ctx) {
    await boot(ctx);
    await requireSmartCharging(ctx);
    const { transactionId } = await remoteStartTx(ctx);
    await waitBusLimit(ctx, { amps: 32, timed: false, what: 'no profile: the wiring limit at the transaction start' });
    const wrong = transactionId + 1000;
    const tx = chargingProfile({ id: 582, stack: 0, purpose: 'TxProfile', kind: 'Relative', transactionId: wrong, periods: [[0, 8]] });
    const status = await setChargingProfile(ctx, 1, tx);
    check(status === 'Rejected', `SetChargingProfile TxProfile with transactionId ${wrong} on connector 1, where transaction ${transactionId} runs, answered ${status}, expected Rejected`);
    const c = await getCompositeSchedule(ctx, { connectorId: 1, duration: 300 });
    checkPeriods(c.periods, [[0, 32]], `GetCompositeSchedule(connector 1, 300 s) after the Rejected TxProfile for transaction ${wrong}`);
    const s = await simSlave(ctx, 1);
    check(s.toldAmps === 32, `after the Rejected TxProfile the Wall Connector is told ${s.toldAmps} A, expected the 32 A wiring: ${JSON.stringify(s)}`);
  },
};
