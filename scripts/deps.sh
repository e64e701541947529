#!/usr/bin/env bash
# Installs the Debian packages mailwarden needs to build, run and test, and
# (when run as root) the two unprivileged system users of SEC-1. Quick when
# everything is already there: it asks dpkg first and runs apt only for
# what is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libevent-dev libssl-dev libfyaml-dev libc-ares-dev libcrypt-dev
  libcriterion-dev libspf2-dev libsqlite3-dev libgmime-3.0-dev libpcre2-dev libhyperscan-dev
  python3-pytest python3-aiosmtpd python3-cryptography swaks openssl testssl.sh dnsmasq-base
  libfaketime libopendkim-dev libopendmarc-dev publicsuffix python3-dkim
  clang
  libyara-dev clamav-daemon libarchive-dev libytnef0-dev libmagic-dev p7zip-full
  libcurl4-openssl-dev libunbound-dev libsystemd-dev zlib1g-dev
  ldnsutils nsd dns-root-data
  scdoc
  libmicrohttpd-dev python3-prometheus-client
  strace xfsprogs
  postfix iproute2
  libjansson-dev
  libseccomp-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Postfix is a test peer (tests/system/dmz runs private instances):
  # installed without a configuration, so no system-wide one starts.
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${missing[@]}"
  }
fi

# SEC-1: when mailwarden is started as root, the queue runs as 'mailwarden',
# the internet-facing smtpd as 'mailwarden-smtpd' and the scanner, which
# parses hostile content, as 'mailwarden-scan'.
if [ "$(id -u)" -eq 0 ]; then
  for u in mailwarden mailwarden-smtpd mailwarden-scan; do
    id -u "$u" >/dev/null 2>&1 || useradd --system --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
  done
fi
