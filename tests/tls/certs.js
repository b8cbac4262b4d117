'use strict';
// The throw-away PKI of tests/tls/make_certs.sh, for the Node tests: makeCerts() runs it in a
// fresh temporary directory (removed when the process exits) and returns the file names.

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function makeCerts() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsk-tls-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  execFileSync('bash', [path.join(__dirname, 'make_certs.sh'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pair = (name) => ({ cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) });
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    caDir: path.join(dir, 'cadir'),
    server: pair('server'),
    expired: pair('expired'),
    wrongHost: pair('wronghost'),
    selfSigned: pair('selfsigned'),
    read: (file) => fs.readFileSync(file),
  };
}

module.exports = { makeCerts };
