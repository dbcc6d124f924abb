// TC_023_4_CS Start Charging Session – Authorize invalid (local start).
import { boot, check, plug, replyOf, FIXED_TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_023_4_CS',
  name: 'Start Charging Session - Authorize invalid',
  requirement: 'The EV is plugged in and identified (twcgw\'s fixed idTag); the central system answers the '
    + 'Authorize with Invalid: no transaction starts (no StartTransaction, no Charging) and the connector stays '
    + 'Preparing (OCPP 1.6 4.1, 4.8).',
  needs: ['stimulus', 'local'],
  config: { ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } } },
  async run(ctx) {
    const { csms } = ctx;
    csms.handle('Authorize', () => ({ idTagInfo: { status: 'Invalid' } }));
    await boot(ctx);
    const since = csms.mark();
    await plug(ctx, 1);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Preparing' }, 20000, { since });
    const auth = await csms.waitFor('Authorize', undefined, 20000, { since });
    await replyOf(ctx, auth);
    await csms.expectNone('StartTransaction', undefined, 4000, { since, why: 'the idTag was Invalid' });
    const charging = csms.find('StatusNotification', (p) => p.connectorId === 1 && p.status !== 'Preparing', { since });
    check(charging.length === 0, `the connector left Preparing after an Invalid Authorize: ${csms.fmt(charging[0])}`);
  },
};
