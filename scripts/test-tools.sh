#!/usr/bin/env bash
# Installs the real, independently written programs the test suite runs against (Debian packages):
# DNS servers and clients, PostgreSQL, an SMTP server, a RADIUS client, Prometheus, Chromium, …
# Idempotent: installs only what is missing. Needs root (or sudo) for apt-get; without it, it prints
# the apt-get line to run and exits 1. The tests fail (never skip) when a tool they need is missing.
set -uo pipefail

# command → Debian package (one line each: "command package").
tools="
dig dnsutils
delv dnsutils
nsupdate dnsutils
kdig knot-dnsutils
nsd nsd
knotd knot
unbound unbound
ldns-signzone ldnsutils
dnsperf dnsperf
dnsmasq dnsmasq-base
promtool prometheus
prometheus prometheus
chromium chromium
systemd-analyze systemd
openssl openssl
mount mount
radclient freeradius-utils
ip iproute2
faketime faketime
/usr/lib/postgresql/15/bin/initdb postgresql
"

need=""
while read -r cmd pkg; do
  [ -n "$cmd" ] || continue
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "$cmd" ]; then
    case " $need " in *" $pkg "*) ;; *) need="$need $pkg" ;; esac
  fi
done <<< "$tools"
# /etc/services (the quick-start port test checks the port is no registered service's).
[ -f /etc/services ] || need="$need netbase"
# The SMTP server the alert tests use is Debian's python3-aiosmtpd, for Debian's /usr/bin/python3.
if ! /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1; then need="$need python3-aiosmtpd"; fi

[ -z "$need" ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "test tools missing:$need — run as root: apt-get install --no-install-recommends$need" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test tools missing:$need (Debian packages; this machine has no apt-get)" >&2
  exit 1
fi
echo "installing test tools:$need"
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends $need; } >/tmp/webfilter-test-tools.log 2>&1; then
  echo "could not install:$need (see /tmp/webfilter-test-tools.log)" >&2
  exit 1
fi
# Debian starts some of these services on install; the tests start their own on loopback.
for svc in nsd knot unbound postgresql dnsmasq prometheus; do
  $sudo systemctl stop "$svc" >/dev/null 2>&1 || $sudo service "$svc" stop >/dev/null 2>&1 || true
done
exit 0
