// TC_081_CS Secure Firmware Update – Invalid Signature: a file whose signature does not verify is
// reported InvalidSignature with the security event InvalidFirmwareSignature and never installed.
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { boot, check } from '../lib/steps.mjs';
import { signFirmware } from '../lib/tls.mjs';
import { installScript, waitSecurityEvent } from '../lib/security.mjs';

const REQUEST_ID = 81;

export default {
  id: 'TC_081_CS',
  name: 'Secure Firmware Update - Invalid Signature',
  profile: 'Security',
  requirement: 'SignedUpdateFirmware with a valid signingCertificate (issued by the installed manufacturer root) but a '
    + 'signature made over other content is Accepted; the charge point downloads the file (Downloading, Downloaded), '
    + 'finds the signature invalid: SignedFirmwareStatusNotification InvalidSignature with the requestId and '
    + 'SecurityEventNotification InvalidFirmwareSignature; it neither installs the file nor reports Installing or '
    + 'Installed (OCPP 1.6 Security Whitepaper L01; libocpp forces the event for this case).',
  needs: ['local'],
  config: { pki: true },
  timeoutMs: 120000,
  async run(ctx) {
    const { csms, pki, sut } = ctx;
    const { command, installed } = installScript(sut);
    sut.ocpp.firmwareInstallCommand = command;
    await boot(ctx, { connectors: false });
    const ic = await csms.call('InstallCertificate', { certificateType: 'ManufacturerRootCertificate', certificate: pki.mfrPem });
    check(ic.status === 'Accepted', `InstallCertificate(ManufacturerRootCertificate) answered ${ic.status}, expected Accepted`);

    const image = randomBytes(64 * 1024);
    const files = await csms.files();
    const location = files.serve('fw/twcgw-ct-bad.bin', image);
    const badSignature = signFirmware(pki, Buffer.concat([image, Buffer.from('tampered')]));
    const since = csms.mark();
    const r = await csms.call('SignedUpdateFirmware', {
      requestId: REQUEST_ID,
      firmware: { location, retrieveDateTime: new Date().toISOString(), signingCertificate: pki.fw.pem, signature: badSignature },
    });
    check(r.status === 'Accepted', `SignedUpdateFirmware answered ${r.status}, expected Accepted (the signature can only be checked on the file)`);
    const inv = await csms.waitFor('SignedFirmwareStatusNotification',
      (p) => ['Installed', 'Installing', 'InstallationFailed', 'InvalidSignature', 'DownloadFailed', 'SignatureVerified'].includes(p.status), 60000, { since });
    const list = () => csms.find('SignedFirmwareStatusNotification', undefined, { since }).map((e) => e.payload.status).join(', ');
    check(inv.payload.status === 'InvalidSignature', `statuses ${list()}; expected InvalidSignature after Downloaded`);
    check(inv.payload.requestId === REQUEST_ID, `InvalidSignature carries requestId ${inv.payload.requestId}, expected ${REQUEST_ID}`);
    const dl = csms.find('SignedFirmwareStatusNotification', { status: 'Downloaded' }, { since });
    check(dl.length === 1 && dl[0].seq < inv.seq, `statuses ${list()}; expected Downloaded before InvalidSignature`);
    const ev = await waitSecurityEvent(ctx, 'InvalidFirmwareSignature', { since, timeoutMs: 30000 });
    ctx.log(`security event: ${csms.fmt(ev)}`);
    await csms.expectNone('SignedFirmwareStatusNotification', (p) => ['Installing', 'Installed'].includes(p.status), 3000, { since, why: 'the signature did not verify' });
    check(!existsSync(installed), 'the install command ran for a file whose signature did not verify');
  },
};
