// OWN_MALFORMED: malformed and unsupported frames get the right CALLERROR and the connection stays up.
import { boot, check, getConfiguration } from '../lib/steps.mjs';

// Actions of the optional profiles, to find one this charge point does not support.
const PROFILE_ACTION = [
  ['Reservation', 'ReserveNow', { connectorId: 1, expiryDate: '2030-01-01T00:00:00Z', idTag: 'CT', reservationId: 1 }],
  ['LocalAuthListManagement', 'GetLocalListVersion', {}],
  ['SmartCharging', 'ClearChargingProfile', {}],
  ['FirmwareManagement', 'GetDiagnostics', { location: 'ftp://127.0.0.1/diag' }],
  ['RemoteTrigger', 'TriggerMessage', { requestedMessage: 'Heartbeat' }],
];

export default {
  id: 'OWN_MALFORMED',
  name: 'Malformed frames get the right CALLERROR',
  requirement: 'OCPP-J 1.6 section 4.2.3: a CALL the charge point cannot process is answered with a CALLERROR '
    + 'carrying the same message id and the matching code: a payload that is not an object -> FormationViolation; '
    + 'an unknown action -> NotImplemented; a known action of a profile it does not support -> NotSupported; a '
    + 'missing required field -> OccurrenceConstraintViolation (the 1.6 text spells it OccurenceConstraintViolation; '
    + 'both accepted); a string over its CiString length -> PropertyConstraintViolation or FormationViolation; a '
    + 'field of the wrong type -> TypeConstraintViolation. A frame that is not JSON gets a CALLERROR with id "-1" '
    + 'or no reply. None of this may close the connection: afterwards the same connection still works.',
  needs: [],
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx, { connectors: ctx.mode === 'local' });
    const conn = csms.client._ctConn;
    const problems = [];
    const expectError = async (label, frame, id, codes) => {
      const reply = await csms.sendRaw(frame, { timeoutMs: 5000 });
      if (!reply) { problems.push(`${label}: no reply to ${frame}`); return; }
      if (reply.type !== 4) { problems.push(`${label}: expected CALLERROR ${codes.join('/')}, got ${reply.raw}`); return; }
      let arr = null;
      try { arr = JSON.parse(reply.raw); } catch { /* recorded as a failure by the CSMS */ }
      if (!Array.isArray(arr) || arr.length !== 5 || typeof arr[3] !== 'string' || typeof arr[4] !== 'object' || arr[4] === null || Array.isArray(arr[4])) {
        problems.push(`${label}: CALLERROR is not [4, id, code, description, {details}]: ${reply.raw}`);
      }
      if (reply.id !== id) problems.push(`${label}: CALLERROR id ${reply.id}, expected ${id}`);
      if (!codes.includes(reply.errorCode)) problems.push(`${label}: CALLERROR ${reply.errorCode}, expected ${codes.join(' or ')}`);
    };

    await expectError('payload not an object', '[2,"m1","Heartbeat","x"]', 'm1', ['FormationViolation']);
    await expectError('unknown action', '[2,"m2","Foo",{}]', 'm2', ['NotImplemented']);

    const profiles = ((await getConfiguration(ctx, ['SupportedFeatureProfiles'])).get('SupportedFeatureProfiles')?.value || '').split(',');
    const unsupported = PROFILE_ACTION.find(([p]) => !profiles.includes(p));
    if (unsupported) {
      const [profile, action, payload] = unsupported;
      const name = action;
      await expectError(`${name} (profile ${profile} not supported)`, JSON.stringify([2, 'm3', name, payload]), 'm3', ['NotSupported']);
    } else {
      ctx.log('every optional profile is supported: no NotSupported check');
    }

    await expectError('required idTag missing', '[2,"m4","RemoteStartTransaction",{"connectorId":1}]', 'm4',
      ['OccurrenceConstraintViolation', 'OccurenceConstraintViolation']);
    await expectError('idTag of 21 characters', '[2,"m5","RemoteStartTransaction",{"connectorId":1,"idTag":"ABCDEFGHIJKLMNOPQRSTU"}]', 'm5',
      ['PropertyConstraintViolation', 'FormationViolation']);
    await expectError('connectorId as a string', '[2,"m6","RemoteStartTransaction",{"connectorId":"1","idTag":"CT"}]', 'm6',
      ['TypeConstraintViolation']);

    const junk = await csms.sendRaw('this is not json', { timeoutMs: 2000 });
    if (junk && !(junk.type === 4 && junk.id === '-1')) problems.push(`not JSON: expected a CALLERROR with id "-1" or no reply, got ${junk.raw}`);

    const stray = await csms.sendRaw('[3,"never-sent-id",{}]', { timeoutMs: 1500 });
    if (stray) problems.push(`a CALLRESULT for an unknown id was answered: ${stray.raw}`);

    // Still the same connection, and it still works both ways.
    if (!csms.client || csms.client._ctConn !== conn) problems.push('the connection was closed by the malformed frames');
    else {
      const r = await csms.tryCall('GetConfiguration', { key: ['HeartbeatInterval'] });
      if (!r.result) problems.push(`GetConfiguration after the malformed frames failed: ${r.error}`);
      const hbSince = csms.mark();
      const hb = await csms.waitFor('Heartbeat', undefined, Number(ctx.keys.HeartbeatInterval || 300) * 1000 + 5000, { since: hbSince }).catch((e) => e);
      if (hb instanceof Error) problems.push(`no Heartbeat after the malformed frames: ${hb.message}`);
      else if (hb.conn !== conn) problems.push('the Heartbeat came on a new connection');
    }
    const started = csms.find('StartTransaction', undefined, { since: 0 });
    if (started.length) problems.push('a malformed RemoteStartTransaction started a transaction');
    check(problems.length === 0, problems.join('; '));
  },
};
