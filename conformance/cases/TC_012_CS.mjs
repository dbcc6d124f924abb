// TC_012_CS Remote Stop Charging Session.
import { boot, check, remoteStartTx, ms } from '../lib/steps.mjs';

export default {
  id: 'TC_012_CS',
  name: 'Remote Stop Charging Session',
  requirement: 'During a transaction, RemoteStopTransaction with its transactionId is Accepted; the charge point '
    + 'stops the transaction as if stopped locally: StopTransaction with that transactionId, reason Remote and a '
    + 'meterStop not below meterStart, and the connector (EV still plugged in) reports Finishing '
    + '(OCPP 1.6 5.12, 4.10).',
  needs: ['stimulus'],
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const { transactionId, start } = await remoteStartTx(ctx);
    const since = csms.mark();
    const r = await csms.call('RemoteStopTransaction', { transactionId });
    check(r.status === 'Accepted', `RemoteStopTransaction answered ${r.status}, expected Accepted`);
    const stop = await csms.waitFor('StopTransaction', { transactionId }, 20000, { since });
    check(stop.payload.reason === 'Remote', `StopTransaction reason ${JSON.stringify(stop.payload.reason)}, expected "Remote": ${csms.fmt(stop)}`);
    check(stop.payload.meterStop >= start.payload.meterStart, `meterStop ${stop.payload.meterStop} is below meterStart ${start.payload.meterStart}`);
    check(ms(stop.payload.timestamp) >= ms(start.payload.timestamp), 'StopTransaction timestamp is before the StartTransaction timestamp');
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Finishing' }, 15000, { since });
  },
};
