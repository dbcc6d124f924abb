// TC_074_CS Update Charge Point Certificate by request of Central System: the whole rotation under
// security profile 3, from the trigger to the charge point reconnecting with the certificate it got.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { boot, check, sec } from '../lib/steps.mjs';
import { certInfo, signCsr } from '../lib/tls.mjs';
import { checkSp3Connection, checkCsr, connects, requestCsr } from '../lib/security.mjs';

export default {
  id: 'TC_074_CS',
  name: 'Update Charge Point Certificate by request of Central System',
  profile: 'Security',
  requirement: 'Security profile 3. After ChangeConfiguration CpoName, ExtendedTriggerMessage(SignChargePointCertificate) '
    + 'is Accepted and the charge point sends SignCertificate with a PEM CSR (RFC 2986) for a new key pair, subject '
    + 'CN = its identity and O = CpoName. The central system signs it and sends the certificate in CertificateSigned: '
    + 'Accepted; the charge point then connects with the new certificate (twcgw: within 60 s, by itself) and keeps '
    + 'using it after a connection loss and after a power cut; the new private key stays on the charge point, in a '
    + 'file only its owner can read (OCPP 1.6 Security Whitepaper A02, A03; twcgw: <dataDir>/certs, mode 0600).',
  needs: ['local', 'powercut'],
  config: { tls: 'client', ocpp: { securityProfile: 3 } },
  timeoutMs: 180000,
  async run(ctx) {
    const { csms, pki, sut } = ctx;
    await boot(ctx, { connectors: false });
    const oldFp = certInfo(pki.cp.pem).fingerprint256;
    checkSp3Connection(csms, connects(csms)[0], { fingerprint: oldFp, what: 'the first connection' });

    const sc = await requestCsr(ctx);
    checkCsr(ctx, sc, { oldCertPem: pki.cp.pem });
    const cert = signCsr(pki, sc.payload.csr);
    const newFp = certInfo(cert).fingerprint256;

    const since = csms.mark();
    const r = await csms.call('CertificateSigned', { certificateChain: cert });
    check(r.status === 'Accepted', `CertificateSigned with the certificate for the CSR answered ${r.status}, expected Accepted`);
    // Timed from the moment the CSMS received the Accepted.
    const sent = csms.transcript.slice(since).find((e) => e.dir === 'out' && e.action === 'CertificateSigned');
    const t0 = sent?.reply?.t ?? Date.now();
    const withNew = await csms._wait('a connection with the new certificate',
      () => connects(csms, since).find((e) => e.info.tls?.peer?.fingerprint256 === newFp), 65000,
      () => `connections since: ${connects(csms, since).map((e) => csms.fmt(e)).join(' | ') || 'none'}`);
    const took = withNew.t - t0;
    check(took <= 60000, `the charge point connected with the new certificate ${sec(took)} after CertificateSigned Accepted, more than 60 s`);
    checkSp3Connection(csms, withNew, { fingerprint: newFp, what: 'the connection after CertificateSigned' });
    ctx.log(`reconnected with the new certificate after ${sec(took)}`);
    const gc = await csms.call('GetConfiguration', { key: ['CpoName'] });
    check(gc.configurationKey?.[0]?.value !== undefined, `GetConfiguration on the new connection: ${JSON.stringify(gc)}`);

    // Never back to the old certificate: after a connection loss, and after a power cut.
    let mark = csms.mark();
    csms.disconnect();
    const again = await csms.waitForConnection(40000, { since: mark });
    checkSp3Connection(csms, again, { fingerprint: newFp, what: 'the connection after a connection loss' });
    mark = csms.mark();
    await sut.powerCut();
    const boot2 = await csms.waitFor('BootNotification', undefined, 45000, { since: mark });
    const conn2 = connects(csms, mark).find((e) => e.conn === boot2.conn);
    checkSp3Connection(csms, conn2, { fingerprint: newFp, what: 'the connection after a power cut' });
    const old = connects(csms, since).filter((e) => e.info.tls?.peer?.fingerprint256 === oldFp && e.seq > withNew.seq);
    check(old.length === 0, `the charge point went back to the old certificate: ${csms.fmt(old[0])}`);

    // Keys at rest: every private key the gateway keeps in dataDir/certs is readable by its owner only.
    const dir = path.join(sut.dataDir, 'certs');
    let keys = 0;
    for (const f of readdirSync(dir)) {
      const p = path.join(dir, f);
      if (!statSync(p).isFile()) continue;
      if (!/PRIVATE KEY-----/.test(readFileSync(p, 'utf8'))) continue;
      keys++;
      const mode = statSync(p).mode & 0o777;
      check((mode & 0o077) === 0, `${path.join('certs', f)} holds a private key with mode ${mode.toString(8)}, expected 0600`);
    }
    check(keys > 0, `no private key file in ${dir} (found: ${readdirSync(dir).join(', ')})`);
  },
};
