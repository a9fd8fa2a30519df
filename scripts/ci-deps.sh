#!/usr/bin/env bash
# Debian packages the test suite needs. CI runs this on a fresh machine as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
# build-essential and python3: better-sqlite3-multiple-ciphers compiles from source.
# isync, offlineimap3, mutt: real IMAP clients (tests/integration/{mbsync,offlineimap,mutt}.test.ts).
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential python3 ca-certificates dovecot-imapd \
  isync offlineimap3 mutt
