// TC_054_CS Trigger Message.
import { boot, check, getConfiguration } from '../lib/steps.mjs';

/** TriggerMessage for @req: Accepted, and then (never before the answer) the @action matching @match. */
async function trigger(ctx, req, action, match = {}) {
  const { csms } = ctx;
  const since = csms.mark();
  const r = await csms.call('TriggerMessage', req);
  check(r.status === 'Accepted', `TriggerMessage ${JSON.stringify(req)} answered ${r.status}, expected Accepted`);
  const sent = csms.find('TriggerMessage', {}, { since, dir: 'out' })[0];
  const msg = await csms.waitFor(action, match, 10000, { since });
  check(sent?.reply && msg.seq > sent.reply.seq,
    `${action} must follow the TriggerMessage answer (5.17), but came first: ${csms.fmt(msg)}`);
  return msg;
}

export default {
  id: 'TC_054_CS',
  name: 'Trigger Message',
  profile: 'RemoteTrigger',
  requirement: 'A charge point with the Remote Trigger profile answers TriggerMessage Accepted and then, after '
    + 'the answer, sends the message asked for: MeterValues (context Trigger), Heartbeat, StatusNotification '
    + 'for the connector, DiagnosticsStatusNotification and FirmwareStatusNotification (Idle when nothing is '
    + 'going on) and BootNotification (OCPP 1.6 5.17, 6.17, 6.19, 7.35).',
  needs: [],
  async run(ctx) {
    await boot(ctx);
    const profiles = (await getConfiguration(ctx, ['SupportedFeatureProfiles'])).get('SupportedFeatureProfiles');
    check(profiles?.value.split(',').includes('RemoteTrigger'), `SupportedFeatureProfiles ${JSON.stringify(profiles?.value)} lacks RemoteTrigger`);

    const mv = await trigger(ctx, { requestedMessage: 'MeterValues', connectorId: 1 }, 'MeterValues', { connectorId: 1 });
    const sv = mv.payload.meterValue?.[0]?.sampledValue || [];
    check(sv.length > 0 && sv.every((s) => s.context === 'Trigger'),
      `triggered MeterValues must carry context Trigger: ${ctx.csms.fmt(mv)}`);
    await trigger(ctx, { requestedMessage: 'Heartbeat' }, 'Heartbeat');
    const st = await trigger(ctx, { requestedMessage: 'StatusNotification', connectorId: 1 }, 'StatusNotification', { connectorId: 1 });
    check(st.payload.status === 'Available', `StatusNotification for the idle connector says ${st.payload.status}, expected Available`);
    const d = await trigger(ctx, { requestedMessage: 'DiagnosticsStatusNotification' }, 'DiagnosticsStatusNotification');
    check(d.payload.status === 'Idle', `DiagnosticsStatusNotification status ${d.payload.status}, expected Idle (no upload going on)`);
    const fw = await trigger(ctx, { requestedMessage: 'FirmwareStatusNotification' }, 'FirmwareStatusNotification');
    check(fw.payload.status === 'Idle', `FirmwareStatusNotification status ${fw.payload.status}, expected Idle (no update going on)`);
    await trigger(ctx, { requestedMessage: 'BootNotification' }, 'BootNotification');
    // Still registered afterwards: an ordinary request is answered and a Heartbeat can follow.
    await trigger(ctx, { requestedMessage: 'Heartbeat' }, 'Heartbeat');
  },
};
