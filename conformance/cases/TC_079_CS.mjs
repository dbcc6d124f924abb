// TC_079_CS Get Security Log: GetLog(SecurityLog) uploads the security log over HTTP, with
// LogStatusNotification Uploading then Uploaded, and the uploaded log holds events but no secret.
import { boot, check } from '../lib/steps.mjs';

const KEY1 = 'CT-key-0123456789ab';
const KEY2 = 'CT-newkey-abcdef9876';
const REQUEST_ID = 79;

export default {
  id: 'TC_079_CS',
  name: 'Get Security Log',
  profile: 'Security',
  requirement: 'GetLog with logType SecurityLog, a requestId and an HTTP remoteLocation is Accepted (with the name of '
    + 'the file it uploads); the charge point sends LogStatusNotification Uploading then Uploaded with that requestId '
    + 'and the central system receives the file (twcgw: HTTP POST, multipart/form-data field "file"). The security log '
    + 'records the security events, here ReconfigurationOfSecurityParameters from a change of AuthorizationKey, and no '
    + 'secret: neither the old nor the new key appears in it (OCPP 1.6 Security Whitepaper N01, A04).',
  needs: ['local'],
  config: { ocpp: { securityProfile: 1, authorizationKey: KEY1 } },
  timeoutMs: 90000,
  async run(ctx) {
    const { csms } = ctx;
    csms.expectPassword = KEY1;
    await boot(ctx, { connectors: false });
    // A security event to find in the log: a new AuthorizationKey (whitepaper A01), then the reconnect with it.
    let since = csms.mark();
    const ck = await csms.call('ChangeConfiguration', { key: 'AuthorizationKey', value: KEY2 });
    check(ck.status === 'Accepted', `ChangeConfiguration AuthorizationKey answered ${ck.status}`);
    csms.expectPassword = KEY2;
    await csms.waitForConnection(30000, { since });

    const files = await csms.files();
    since = csms.mark();
    const r = await csms.call('GetLog', { logType: 'SecurityLog', requestId: REQUEST_ID, log: { remoteLocation: files.url('upload/security') } });
    check(r.status === 'Accepted', `GetLog(SecurityLog) answered ${r.status}, expected Accepted`);
    const up1 = await csms.waitFor('LogStatusNotification', { status: 'Uploading' }, 30000, { since });
    check(up1.payload.requestId === REQUEST_ID, `LogStatusNotification Uploading carries requestId ${up1.payload.requestId}, expected ${REQUEST_ID}`);
    const done = await csms.waitFor('LogStatusNotification', (p) => p.status !== 'Uploading', 60000, { since: up1.seq + 1 });
    check(done.payload.status === 'Uploaded', `after Uploading came LogStatusNotification ${JSON.stringify(done.payload)}, expected Uploaded`);
    check(done.payload.requestId === REQUEST_ID, `LogStatusNotification Uploaded carries requestId ${done.payload.requestId}, expected ${REQUEST_ID}`);
    const up = await csms.waitForUpload(5000, { since });
    check(up.file, `the upload has no multipart field "file" (parts: ${up.parts.map((p) => p.name).join(', ') || 'none'}, content-type ${up.contentType})`);
    if (r.filename) check(up.file.filename === r.filename, `the uploaded file is named ${JSON.stringify(up.file.filename)}, GetLog.conf said ${JSON.stringify(r.filename)}`);
    const text = up.file.data.toString('utf8');
    ctx.log(`security log: ${up.file.data.length} bytes, first lines: ${text.split('\n').slice(0, 3).join(' | ')}`);
    check(up.file.data.length > 0, 'the uploaded security log is empty');
    check(/ReconfigurationOfSecurityParameters/.test(text), 'the uploaded security log does not record ReconfigurationOfSecurityParameters (the AuthorizationKey change)');
    check(!text.includes(KEY1) && !text.includes(KEY2), 'the uploaded security log contains an AuthorizationKey');
  },
};
