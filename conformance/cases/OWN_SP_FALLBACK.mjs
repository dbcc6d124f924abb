// OWN_SP_FALLBACK: a raised security profile whose first connection fails falls back to the previous
// profile, which is kept and reported as a security event.
import { boot, check, getConfiguration } from '../lib/steps.mjs';
import { serverTls } from '../lib/tls.mjs';
import { connects } from '../lib/security.mjs';

const KEY = 'CT-key-0123456789ab';

export default {
  id: 'OWN_SP_FALLBACK',
  name: 'A raised security profile falls back when its first connection fails',
  profile: 'Security',
  requirement: 'Security profile 2 with a valid charge point certificate installed. ChangeConfiguration SecurityProfile 3 '
    + 'is Accepted; the central system then refuses the charge point\'s certificate (it trusts another CA for '
    + 'clients). After that first failed connection the charge point goes back to profile 2 (whitepaper A05, as '
    + 'libocpp does: the only way a profile goes down), connects with HTTP Basic again once the central system takes '
    + 'profile 2, reports ReconfigurationOfSecurityParameters for the change and again for the fallback, and SecurityProfile reads 2.',
  needs: ['local'],
  config: { tls: true, pki: true, ocpp: { securityProfile: 2, authorizationKey: KEY } },
  timeoutMs: 150000,
  async run(ctx) {
    const { csms, pki, sut } = ctx;
    sut.ocpp.certFile = pki.cp.certFile;
    sut.ocpp.keyFile = pki.cp.keyFile;
    csms.expectPassword = KEY;
    await boot(ctx, { connectors: false });
    // The central system now demands client certificates from a CA the charge point's is not from.
    await csms.relisten({ ...serverTls(pki, { client: true }), ca: [pki.otherCaPem] });
    const since = csms.mark();
    const up = await csms.call('ChangeConfiguration', { key: 'SecurityProfile', value: '3' });
    check(up.status === 'Accepted', `ChangeConfiguration SecurityProfile=3 answered ${up.status}, expected Accepted (root and certificate installed)`);
    await csms._wait('a refused profile 3 handshake', () => csms.transcript.slice(since).find((e) => e.event === 'tls-error'), 45000);
    const back = csms.mark();
    await csms.relisten(serverTls(pki));
    const conn = await csms.waitForConnection(60000, { since: back });
    check(conn.info.auth === 'basic' && conn.password === KEY, `after the failed profile 3 connection the charge point connected with ${JSON.stringify(conn.info)}, expected profile 2 (Basic)`);
    const sp3 = connects(csms, since).filter((e) => e.info.tls?.peer);
    check(sp3.length === 0, `a profile 3 connection went through: ${csms.fmt(sp3[0])}`);
    // Two events: one for the central system's change, one for the fallback.
    await csms._wait('two ReconfigurationOfSecurityParameters events (the change, then the fallback)',
      () => csms.find('SecurityEventNotification', { type: 'ReconfigurationOfSecurityParameters' }, { since }).length >= 2, 30000,
      () => `saw: ${csms.find('SecurityEventNotification', undefined, { since }).map((e) => csms.fmt(e)).join(' | ') || 'none'}`);
    const v = (await getConfiguration(ctx, ['SecurityProfile'])).get('SecurityProfile')?.value;
    check(v === '2', `SecurityProfile reads ${v} after the fallback, expected 2`);
  },
};
