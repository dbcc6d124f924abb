// TC_018_2_CS Unlock Connector – with charging session (fixed cable).
import { boot, check, remoteStartTx, getConfiguration, changeConfiguration } from '../lib/steps.mjs';

export default {
  id: 'TC_018_2_CS',
  name: 'Unlock Connector - With Charging Session (Fixed cable)',
  requirement: 'A charge point with a fixed cable has no connector lock, so UnlockConnector during a transaction '
    + 'is answered NotSupported (OCPP 1.6 5.18, 7.44). 5.18 also has a running transaction finished before the '
    + 'unlock; with no lock the specification leaves open whether that still happens, and UnlockConnector '
    + 'SHOULD NOT be used to stop a transaction. twcgw lets StopTransactionIfUnlockNotSupported decide: false '
    + '(default), the transaction goes on, still Charging; true, StopTransaction with reason UnlockCommand '
    + 'follows and the connector, the EV still plugged in, reports Finishing.',
  needs: ['stimulus'],
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const key = (await getConfiguration(ctx, ['StopTransactionIfUnlockNotSupported'])).get('StopTransactionIfUnlockNotSupported');
    check(key?.value === 'false', `StopTransactionIfUnlockNotSupported is ${JSON.stringify(key)}; false is the default`);

    const first = await remoteStartTx(ctx);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 20000);
    let since = csms.mark();
    let r = await csms.call('UnlockConnector', { connectorId: 1 });
    check(r.status === 'NotSupported', `UnlockConnector during a transaction answered ${r.status}, expected NotSupported (fixed cable)`);
    await csms.expectNone('StopTransaction', {}, 5000, { since, why: 'StopTransactionIfUnlockNotSupported is false' });
    const moved = csms.find('StatusNotification', { connectorId: 1 }, { since })[0];
    check(!moved, `the connector must stay Charging after an UnlockConnector: ${moved && csms.fmt(moved)}`);

    const st = await changeConfiguration(ctx, 'StopTransactionIfUnlockNotSupported', 'true');
    check(st === 'Accepted', `ChangeConfiguration StopTransactionIfUnlockNotSupported=true answered ${st}`);
    since = csms.mark();
    r = await csms.call('UnlockConnector', { connectorId: 1 });
    check(r.status === 'NotSupported', `UnlockConnector answered ${r.status}, expected NotSupported (fixed cable)`);
    const stop = await csms.waitFor('StopTransaction', { transactionId: first.transactionId }, 20000, { since });
    check(stop.payload.reason === 'UnlockCommand', `StopTransaction reason ${JSON.stringify(stop.payload.reason)}, expected UnlockCommand: ${csms.fmt(stop)}`);
    check(stop.payload.meterStop >= first.start.payload.meterStart, `meterStop ${stop.payload.meterStop} is below meterStart ${first.start.payload.meterStart}`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Finishing' }, 15000, { since });
  },
};
