// JUnit XML for the conformance results: one testsuite, one testcase per case; a failure carries the
// reason, the transcript of the case and the tail of twcgw's stderr; not applicable is "skipped".
const esc = (s) => String(s ?? '')
  // XML 1.0 forbids most control characters even as entities.
  // eslint-disable-next-line no-control-regex
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '?')
  .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function junitXml(results, wallSeconds) {
  const failed = results.filter((r) => r.outcome === 'fail').length;
  const skipped = results.filter((r) => r.outcome === 'na').length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ocpp16-conformance" tests="${results.length}" failures="${failed}" skipped="${skipped}" time="${wallSeconds.toFixed(3)}">`,
    `  <testsuite name="ocpp16-conformance" tests="${results.length}" failures="${failed}" errors="0" skipped="${skipped}" time="${wallSeconds.toFixed(3)}" timestamp="${new Date().toISOString()}">`,
  ];
  for (const r of results) {
    const head = `    <testcase classname="conformance.${esc(r.profile || 'Core')}" name="${esc(`${r.id} ${r.name}`)}" file="${esc(r.file)}" time="${(r.ms / 1000).toFixed(3)}"`;
    if (r.outcome === 'pass') {
      lines.push(`${head}/>`);
      continue;
    }
    lines.push(`${head}>`);
    if (r.outcome === 'na') {
      lines.push(`      <skipped message="${esc(r.reason)}"/>`);
    } else {
      lines.push(`      <failure message="${esc(r.reason)}" type="ConformanceFailure">${esc(`${r.reason}\n\nRequirement: ${r.requirement}`)}</failure>`);
      lines.push(`      <system-out>${esc(r.transcript || '')}</system-out>`);
      if (r.stderrTail) lines.push(`      <system-err>${esc(r.stderrTail)}</system-err>`);
    }
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
