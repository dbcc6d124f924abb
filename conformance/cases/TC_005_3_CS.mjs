// TC_005_3_CS EV Side Disconnected (StopTransactionOnEVSideDisconnect false, UnlockConnectorOnEVSideDisconnect false).
import { boot, check, remoteStartTx, plug, unplug, getConfiguration, changeConfiguration } from '../lib/steps.mjs';

export default {
  id: 'TC_005_3_CS',
  name: 'EV Side Disconnected - StopTransactionOnEVSideDisconnect false, UnlockConnectorOnEVSideDisconnect false',
  requirement: 'With StopTransactionOnEVSideDisconnect false (a read-write key), unplugging the cable at the EV '
    + 'does not end the transaction: the connector reports SuspendedEV and no StopTransaction is sent; when the EV '
    + 'comes back, energy flows again in the same transaction. A RemoteStopTransaction is then Accepted and ends '
    + 'it: StopTransaction with reason Remote, and the connector, with no EV, reports Available '
    + '(OCPP 1.6 4.10, 9.1.29, 5.12).',
  needs: ['stimulus'],
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const cfg = await getConfiguration(ctx, ['StopTransactionOnEVSideDisconnect', 'UnlockConnectorOnEVSideDisconnect',
      'MinimumStatusDuration']);
    const stopKey = cfg.get('StopTransactionOnEVSideDisconnect');
    check(stopKey && !stopKey.readonly, `StopTransactionOnEVSideDisconnect must be implemented and read-write: ${JSON.stringify(stopKey)}`);
    for (const [key, value] of [['StopTransactionOnEVSideDisconnect', 'false'], ['UnlockConnectorOnEVSideDisconnect', 'false'],
      ['MinimumStatusDuration', '0']]) {
      const k = cfg.get(key);
      if (!k || k.value === value) continue;           // MinimumStatusDuration is optional
      const st = await changeConfiguration(ctx, key, value);
      check(st === 'Accepted', `ChangeConfiguration ${key}=${value} answered ${st}`);
    }

    const { transactionId } = await remoteStartTx(ctx);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 20000);

    let since = csms.mark();
    await unplug(ctx, 1);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'SuspendedEV' }, 20000, { since });
    // The bus reports the unplug within a heartbeat or two; 6 s is several of them.
    await csms.expectNone('StopTransaction', {}, 6000, { since, why: 'StopTransactionOnEVSideDisconnect is false' });
    const stray = csms.find('StatusNotification', (p) => p.connectorId === 1 && p.status !== 'SuspendedEV', { since })[0];
    check(!stray, `after the EV-side unplug the connector must stay SuspendedEV: ${stray && csms.fmt(stray)}`);

    // The same transaction resumes when the EV is connected again.
    since = csms.mark();
    await plug(ctx, 1);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 20000, { since });
    const again = csms.find('StartTransaction', {}, { since })[0];
    check(!again, `re-plugging during the transaction must not start another one: ${again && csms.fmt(again)}`);

    since = csms.mark();
    await unplug(ctx, 1);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'SuspendedEV' }, 20000, { since });
    since = csms.mark();
    const r = await csms.call('RemoteStopTransaction', { transactionId });
    check(r.status === 'Accepted', `RemoteStopTransaction answered ${r.status}, expected Accepted`);
    const stop = await csms.waitFor('StopTransaction', { transactionId }, 20000, { since });
    check(stop.payload.reason === 'Remote', `StopTransaction reason ${JSON.stringify(stop.payload.reason)}, expected Remote: ${csms.fmt(stop)}`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Available' }, 20000, { since });
  },
};
