// TC_021_CS Change/set Configuration: the change is Accepted, reported back, and takes effect.
import { boot, check, getConfiguration, changeConfiguration, checkHeartbeats } from '../lib/steps.mjs';

const NEW_H = 3;

export default {
  id: 'TC_021_CS',
  name: 'Change/set Configuration',
  requirement: 'ChangeConfiguration of a supported read-write key with a valid value is Accepted; GetConfiguration '
    + 'then reports the new value and the charge point behaves accordingly: after HeartbeatInterval is changed '
    + 'the Heartbeats come at the new interval (OCPP 1.6 5.3, 9.1.10).',
  needs: [],
  config: { keys: { HeartbeatInterval: 10 } },
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx, { connectors: ctx.mode === 'local' });
    const st = await changeConfiguration(ctx, 'HeartbeatInterval', NEW_H);
    check(st === 'Accepted', `ChangeConfiguration HeartbeatInterval=${NEW_H} answered ${st}, expected Accepted`);
    const since = csms.mark();
    const got = (await getConfiguration(ctx, ['HeartbeatInterval'])).get('HeartbeatInterval');
    check(got?.value === String(NEW_H), `GetConfiguration after the change reports HeartbeatInterval ${JSON.stringify(got)}`);
    await checkHeartbeats(ctx, { since, interval: NEW_H });
  },
};
