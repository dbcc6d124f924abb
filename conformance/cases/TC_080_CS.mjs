// TC_080_CS Secure Firmware Update: a firmware file signed by a certificate under the installed
// manufacturer root is downloaded, verified and handed to the install step, with every status.
import { readFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { boot, check } from '../lib/steps.mjs';
import { signFirmware } from '../lib/tls.mjs';
import { installScript } from '../lib/security.mjs';

const REQUEST_ID = 80;
const ORDER = ['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'Installed'];

export default {
  id: 'TC_080_CS',
  name: 'Secure Firmware Update',
  profile: 'Security',
  requirement: 'With the manufacturer root installed (InstallCertificate ManufacturerRootCertificate), SignedUpdateFirmware '
    + 'with an HTTP location, retrieveDateTime now, a signingCertificate issued by that root and the signature (base64 of '
    + 'a SHA-256 signature of the file by the certificate\'s key) is Accepted; the charge point downloads the file and '
    + 'sends SignedFirmwareStatusNotification Downloading, Downloaded, SignatureVerified, Installing, Installed, in '
    + 'that order, each with the requestId, and installs exactly the file served (twcgw: ocpp.firmwareInstallCommand '
    + 'run with the file\'s path, exit status 0) (OCPP 1.6 Security Whitepaper L01).',
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

    const image = randomBytes(200 * 1024);
    const files = await csms.files();
    const location = files.serve('fw/twcgw-ct-1.2.3.bin', image);
    const since = csms.mark();
    const r = await csms.call('SignedUpdateFirmware', {
      requestId: REQUEST_ID,
      firmware: { location, retrieveDateTime: new Date().toISOString(), signingCertificate: pki.fw.pem, signature: signFirmware(pki, image) },
    });
    check(r.status === 'Accepted', `SignedUpdateFirmware answered ${r.status}, expected Accepted`);
    const last = await csms.waitFor('SignedFirmwareStatusNotification',
      (p) => ['Installed', 'InstallationFailed', 'InvalidSignature', 'DownloadFailed', 'InstallVerificationFailed'].includes(p.status), 90000, { since });
    const seen = csms.find('SignedFirmwareStatusNotification', undefined, { since }).map((e) => e.payload);
    const list = seen.map((p) => p.status).join(', ');
    check(last.payload.status === 'Installed', `the update ended with ${last.payload.status} (statuses: ${list})`);
    const main = seen.filter((p) => ORDER.includes(p.status)).map((p) => p.status);
    check(JSON.stringify(main) === JSON.stringify(ORDER), `SignedFirmwareStatusNotification statuses ${list}; expected ${ORDER.join(', ')} in this order`);
    const noId = seen.filter((p) => p.requestId !== REQUEST_ID);
    check(noId.length === 0, `SignedFirmwareStatusNotification ${JSON.stringify(noId[0])} does not carry requestId ${REQUEST_ID}`);
    check(files.gets.some((g) => g.status === 200), 'the firmware file was never downloaded');
    check(existsSync(installed), 'the install command was not run');
    check(readFileSync(installed).equals(image), 'the install command got a file that differs from the one served');
    // Whitepaper 6.4: FirmwareUpdated is a critical security event, sent after Installed.
    const ev = await csms.waitFor('SecurityEventNotification', { type: 'FirmwareUpdated' }, 10000, { since });
    ctx.log(`FirmwareUpdated: ${csms.fmt(ev)}`);
  },
};
