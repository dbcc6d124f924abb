// TC_034_CS Power Failure with Unavailable Status: availability survives a power cut.
import { boot, check, replyOf } from '../lib/steps.mjs';

export default {
  id: 'TC_034_CS',
  name: 'Power Failure with Unavailable Status',
  requirement: 'ChangeAvailability(connectorId 0, Inoperative) is Accepted and the connectors report '
    + 'Unavailable. After a power cycle the charge point boots and still reports its connectors Unavailable '
    + '(the availability is persistent); ChangeAvailability Operative makes them Available again '
    + '(OCPP 1.6 5.2: "the availability SHALL be persistent across reboot/power loss").',
  needs: ['powercut'],
  timeoutMs: 100000,
  async run(ctx) {
    const { csms, sut } = ctx;
    await boot(ctx);
    let since = csms.mark();
    const r = await csms.call('ChangeAvailability', { connectorId: 0, type: 'Inoperative' });
    check(r.status === 'Accepted', `ChangeAvailability(0, Inoperative) answered ${r.status}, expected Accepted`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Unavailable' }, 15000, { since });
    since = csms.mark();
    await sut.powerCut();
    const b = await csms.waitFor('BootNotification', undefined, 45000, { since });
    await replyOf(ctx, b);
    for (const c of [0, 1]) {
      const st = await csms.waitFor('StatusNotification', { connectorId: c }, 45000, { since: b.seq });
      check(st.payload.status === 'Unavailable',
        `after the power cut connector ${c} reported ${st.payload.status}, expected Unavailable (availability not persisted): ${csms.fmt(st)}`);
    }
    since = csms.mark();
    const ok = await csms.call('ChangeAvailability', { connectorId: 0, type: 'Operative' });
    check(ok.status === 'Accepted', `ChangeAvailability(0, Operative) answered ${ok.status}`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Available' }, 15000, { since });
  },
};
