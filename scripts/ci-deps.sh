#!/usr/bin/env bash
# Debian packages the test suite needs. CI runs this on a fresh machine as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
# build-essential and python3: better-sqlite3-multiple-ciphers compiles from source.
# isync, offlineimap3, mutt: real IMAP clients (tests/integration/{mbsync,offlineimap,mutt}.test.ts).
# swaks: an SMTP client against the provider's MX and the local gateway
# (tests/integration/provider-mx.test.ts, smtp-clients.test.ts).
# thunderbird, xvfb, xauth: the add-on in a real Thunderbird (tests/e2e/thunderbird.test.ts);
# imagemagick (import, convert) and tesseract-ocr: the popup's screenshot, read back.
# gnupg: OpenPGP interop (tests/interop/gnupg-*.test.ts). openssl: test
# certificates, and `npm start`'s local provider makes its own with it.
# chromium: the web reader in a real browser (tests/e2e/webmail.test.ts, playwright-core).
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential python3 ca-certificates dovecot-imapd \
  isync offlineimap3 mutt swaks gnupg openssl \
  thunderbird xvfb xauth imagemagick tesseract-ocr tesseract-ocr-eng fonts-dejavu-core chromium
