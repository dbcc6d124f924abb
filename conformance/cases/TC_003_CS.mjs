// TC_003_CS Regular Charging Session – Plugin First, with twcgw's fixed idTag standing in for the card.
import { boot, check, plug, replyOf, ms, FIXED_TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_003_CS',
  name: 'Regular Charging Session - Plugin First',
  requirement: 'The EV is plugged in first: the connector reports Preparing; the identification that follows '
    + '(here twcgw\'s configured fixed idTag) is checked with Authorize, answered Accepted; the charge point then '
    + 'sends StartTransaction with that idTag and reports Charging, in either order (OCPP 1.6 4.1, 4.8, 4.9; '
    + 'a transaction only starts once authorised).',
  needs: ['stimulus', 'local'],
  config: { ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } } },
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const since = csms.mark();
    await plug(ctx, 1);
    const prep = await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Preparing' }, 20000, { since });
    const auth = await csms.waitFor('Authorize', { idTag: FIXED_TAG }, 20000, { since });
    check(prep.seq < auth.seq, `Authorize came before the connector reported Preparing: ${csms.fmt(auth)}`);
    const authReply = await replyOf(ctx, auth);
    const start = await csms.waitFor('StartTransaction', { connectorId: 1 }, 20000, { since });
    check(start.seq > authReply.seq, `StartTransaction was sent before the Authorize was answered: ${csms.fmt(start)}`);
    check(start.payload.idTag.toLowerCase() === FIXED_TAG.toLowerCase(),
      `StartTransaction carries idTag ${start.payload.idTag}, not the authorised ${FIXED_TAG}`);
    check(Math.abs(ms(start.payload.timestamp) - start.t) < 60000,
      `StartTransaction timestamp ${start.payload.timestamp} is more than a minute off the central system's clock`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 20000, { since });
  },
};
