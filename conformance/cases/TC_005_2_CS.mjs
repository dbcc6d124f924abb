// TC_005_2_CS EV Side Disconnected (StopTransactionOnEVSideDisconnect true, UnlockConnectorOnEVSideDisconnect false).
import { boot, check, remoteStartTx, unplug, getConfiguration, changeConfiguration } from '../lib/steps.mjs';

export default {
  id: 'TC_005_2_CS',
  name: 'EV Side Disconnected - StopTransactionOnEVSideDisconnect true, UnlockConnectorOnEVSideDisconnect false',
  requirement: 'With StopTransactionOnEVSideDisconnect true and UnlockConnectorOnEVSideDisconnect false, '
    + 'unplugging the cable at the EV during a transaction stops it: StopTransaction with reason EVDisconnected '
    + 'and meterStop not below meterStart; the connector is not unlocked (a fixed cable has no lock) and becomes '
    + 'Available once the EV is gone (OCPP 1.6 9.1.29, 9.1.35, 4.10).',
  needs: ['stimulus'],
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const cfg = await getConfiguration(ctx, ['StopTransactionOnEVSideDisconnect', 'UnlockConnectorOnEVSideDisconnect']);
    const stopKey = cfg.get('StopTransactionOnEVSideDisconnect');
    check(stopKey?.value === 'true', `StopTransactionOnEVSideDisconnect is ${JSON.stringify(stopKey?.value)}; this case needs true`);
    const unlockKey = cfg.get('UnlockConnectorOnEVSideDisconnect');
    check(unlockKey, 'UnlockConnectorOnEVSideDisconnect missing (a required Core key)');
    if (unlockKey.value !== 'false') {
      const st = await changeConfiguration(ctx, 'UnlockConnectorOnEVSideDisconnect', 'false');
      check(st === 'Accepted', `ChangeConfiguration UnlockConnectorOnEVSideDisconnect=false answered ${st}`);
    }
    const { transactionId, start } = await remoteStartTx(ctx);
    const since = csms.mark();
    await unplug(ctx, 1);
    const stop = await csms.waitFor('StopTransaction', { transactionId }, 20000, { since });
    check(stop.payload.reason === 'EVDisconnected', `StopTransaction reason ${JSON.stringify(stop.payload.reason)}, expected EVDisconnected`);
    check(stop.payload.meterStop >= start.payload.meterStart, `meterStop ${stop.payload.meterStop} is below meterStart ${start.payload.meterStart}`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Available' }, 20000, { since });
  },
};
