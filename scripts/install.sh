#!/usr/bin/env bash
# Installs webfilter on a systemd appliance from this source tree. Idempotent: run it again to upgrade
# (the app and the unit are replaced; the config, the lists you edited and the evidence are kept).
#
#   sudo scripts/install.sh                      # the appliance
#   scripts/install.sh --destdir /tmp/root       # into a staging root (packaging, CI); no systemctl
#
# What it does (paths are the defaults; --prefix moves the app):
#   users    system group webfilter-review (the people who may read the evidence: the online safety
#            officer) and system user webfilter (the service; its group is webfilter-review)
#   app      /opt/webfilter: dist/, node_modules/ (production only), package.json, README.md
#   command  /usr/local/bin/webfilter → /opt/webfilter/dist/cli.js
#   config   /etc/webfilter             root:webfilter-review 0750; webfilter.yaml and blocklists/ 0640
#            (never overwritten; other files, e.g. secrets, are left alone)
#   evidence /var/lib/webfilter         webfilter:webfilter-review 0750 (database files 0640)
#   unit     /etc/systemd/system/webfilter.service (then systemctl daemon-reload)
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/install.sh [--destdir DIR] [--prefix DIR] [--bindir DIR]
  --destdir DIR  install under DIR as if it were / (or $DESTDIR); users go into DIR/etc/passwd
  --prefix DIR   where the app goes (default /opt/webfilter, or $PREFIX)
  --bindir DIR   where the webfilter command goes (default /usr/local/bin, or $BINDIR)
EOF
}

DESTDIR="${DESTDIR:-}"
PREFIX="${PREFIX:-/opt/webfilter}"
BINDIR="${BINDIR:-/usr/local/bin}"
while [ $# -gt 0 ]; do
  case "$1" in
    --destdir) DESTDIR="${2:?--destdir needs a directory}"; shift 2 ;;
    --destdir=*) DESTDIR="${1#*=}"; shift ;;
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --prefix=*) PREFIX="${1#*=}"; shift ;;
    --bindir) BINDIR="${2:?--bindir needs a directory}"; shift 2 ;;
    --bindir=*) BINDIR="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$PREFIX$BINDIR" in /*/*) ;; *) echo "install.sh: --prefix and --bindir must be absolute" >&2; exit 2 ;; esac
[ -z "$DESTDIR" ] || DESTDIR="$(mkdir -p "$DESTDIR" && cd "$DESTDIR" && pwd)"

SRC="$(cd "$(dirname "$0")/.." && pwd)"
SERVICE_USER=webfilter
REVIEW_GROUP=webfilter-review
ETC=/etc/webfilter
STATE=/var/lib/webfilter
UNIT_DIR=/etc/systemd/system

say() { echo "install: $*"; }
die() { echo "install.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo scripts/install.sh), or with --destdir as root for a staging root"

# Node.js: the version package.json's "engines" names.
NODE="$(command -v node || true)"
[ -n "$NODE" ] || die "node is not installed (Node.js $(sed -n 's/.*"node": *"\([^"]*\)".*/\1/p' "$SRC/package.json") is needed)"
"$NODE" -e '
  const want = require(process.argv[1]).engines.node;
  const [maj, min] = process.versions.node.split(".").map(Number);
  const ok = want.split("||").some((r) => {
    const m = /(\d+)\.(\d+)/.exec(r); if (!m) return false;
    const [wm, wn] = [Number(m[1]), Number(m[2])];
    return r.includes("^") ? maj === wm && min >= wn : maj > wm || (maj === wm && min >= wn);
  });
  if (!ok) { console.error(`install.sh: Node.js ${process.versions.node} is not supported (package.json engines: ${want})`); process.exit(1); }
' "$SRC/package.json"

# 1. Users and groups. Under --destdir they go into DESTDIR/etc/{passwd,group} (useradd --prefix),
#    never into this machine's.
prefix_args=()
if [ -n "$DESTDIR" ]; then
  prefix_args=(--prefix "$DESTDIR")
  mkdir -p "$DESTDIR/etc"
  for f in passwd group shadow gshadow; do [ -e "$DESTDIR/etc/$f" ] || : > "$DESTDIR/etc/$f"; done
  chmod 0640 "$DESTDIR/etc/shadow" "$DESTDIR/etc/gshadow"
fi
passwd_file="$DESTDIR/etc/passwd"
group_file="$DESTDIR/etc/group"
has_group() { awk -F: -v n="$1" '$1 == n { f = 1 } END { exit !f }' "$group_file"; }
has_user() { awk -F: -v n="$1" '$1 == n { f = 1 } END { exit !f }' "$passwd_file"; }
if ! has_group "$REVIEW_GROUP"; then
  groupadd "${prefix_args[@]}" --system "$REVIEW_GROUP"
  say "created group $REVIEW_GROUP (add the online safety officer: usermod -aG $REVIEW_GROUP NAME)"
fi
if ! has_user "$SERVICE_USER"; then
  useradd "${prefix_args[@]}" --system --gid "$REVIEW_GROUP" --home-dir "$STATE" --no-create-home \
    --shell /usr/sbin/nologin --comment "webfilter DNS filter" "$SERVICE_USER"
  say "created user $SERVICE_USER"
fi
# Numeric ids from the files we just wrote (under --destdir this machine's NSS does not know them).
uid="$(awk -F: -v n="$SERVICE_USER" '$1 == n { print $3 }' "$passwd_file")"
gid="$(awk -F: -v n="$REVIEW_GROUP" '$1 == n { print $3 }' "$group_file")"
[ -n "$uid" ] && [ -n "$gid" ] || die "could not find $SERVICE_USER/$REVIEW_GROUP in $passwd_file/$group_file"

# 2. The app: built here (npm ci + build when needed), copied with production dependencies only.
if [ ! -f "$SRC/dist/cli.js" ] || [ ! -d "$SRC/node_modules" ]; then
  say "building in $SRC (npm ci, npm run build)"
  (cd "$SRC" && npm ci --no-audit --no-fund && npm run build)
fi
app="$DESTDIR$PREFIX"
mkdir -p "$(dirname "$app")"
stage="$(mktemp -d "$(dirname "$app")/.webfilter-install.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
cp -a "$SRC/dist" "$SRC/node_modules" "$SRC/package.json" "$SRC/package-lock.json" "$SRC/README.md" "$stage/"
(cd "$stage" && npm prune --omit=dev --no-audit --no-fund >/dev/null)
chmod 0755 "$stage" "$stage/dist/cli.js"
chown -R 0:0 "$stage"
# Swap in the new tree in one rename, then drop the old one.
if [ -d "$app" ]; then mv "$app" "$stage.old"; fi
mv "$stage" "$app"
rm -rf "$stage.old"
trap - EXIT
say "app in $PREFIX ($("$NODE" "$app/dist/cli.js" --version))"

# 3. The command on PATH: a relative link, so it works under --destdir as well.
mkdir -p "$DESTDIR$BINDIR"
rel="$(realpath -m --relative-to="$BINDIR" "$PREFIX/dist/cli.js")"
ln -sfn "$rel" "$DESTDIR$BINDIR/webfilter"
say "command $BINDIR/webfilter"

# 4. Config and lists: root-owned, readable by the service and the review group, never overwritten.
install -d -o 0 -g "$gid" -m 0750 "$DESTDIR$ETC"
if [ ! -e "$DESTDIR$ETC/webfilter.yaml" ]; then
  install -o 0 -g "$gid" -m 0640 "$SRC/config/webfilter.yaml" "$DESTDIR$ETC/webfilter.yaml"
  say "config $ETC/webfilter.yaml (edit groups and upstreams, then: webfilter config check $ETC/webfilter.yaml)"
else
  say "config $ETC/webfilter.yaml kept"
fi
(cd "$SRC" && find -L blocklists -type d) | while read -r d; do install -d -o 0 -g "$gid" -m 0750 "$DESTDIR$ETC/$d"; done
(cd "$SRC" && find -L blocklists -type f) | while read -r f; do
  [ -e "$DESTDIR$ETC/$f" ] || install -o 0 -g "$gid" -m 0640 "$SRC/$f" "$DESTDIR$ETC/$f"
done
# Modes of what is there already (an older install made them 0644 or root:root): the config file and
# the lists only. Anything else in /etc/webfilter (a TLS key, a RADIUS secret, an SMTP URL file) is
# left as ICT set it: such files belong to the webfilter user, mode 0400, not to the review group.
chown 0:"$gid" "$DESTDIR$ETC" "$DESTDIR$ETC/webfilter.yaml"
chmod 0750 "$DESTDIR$ETC"
chmod 0640 "$DESTDIR$ETC/webfilter.yaml"
chown -R 0:"$gid" "$DESTDIR$ETC/blocklists"
find "$DESTDIR$ETC/blocklists" -type d -exec chmod 0750 {} +
find "$DESTDIR$ETC/blocklists" -type f -exec chmod 0640 {} +

# 5. The evidence store: the service writes it, the review group reads it. The unit's
#    StateDirectoryMode=0750 and Group=webfilter-review keep this on every start.
install -d -o "$uid" -g "$gid" -m 0750 "$DESTDIR$STATE"
chown -R "$uid:$gid" "$DESTDIR$STATE"
chmod 0750 "$DESTDIR$STATE"
# The evidence file (and its WAL) group-readable; any other file there (account data) keeps its mode.
for f in webfilter.db webfilter.db-wal webfilter.db-shm; do
  if [ -f "$DESTDIR$STATE/$f" ]; then chmod 0640 "$DESTDIR$STATE/$f"; fi
done

# 6. The unit, pointing at this node and this prefix.
install -d -m 0755 "$DESTDIR$UNIT_DIR"
sed -e "s#/usr/bin/node #$NODE #g" -e "s#/opt/webfilter#$PREFIX#g" "$SRC/systemd/webfilter.service" \
  > "$DESTDIR$UNIT_DIR/webfilter.service.new"
chmod 0644 "$DESTDIR$UNIT_DIR/webfilter.service.new"
mv "$DESTDIR$UNIT_DIR/webfilter.service.new" "$DESTDIR$UNIT_DIR/webfilter.service"
say "unit $UNIT_DIR/webfilter.service"

if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if systemctl is-active --quiet webfilter; then
    systemctl restart webfilter
    say "webfilter restarted"
  else
    say "next: edit $ETC/webfilter.yaml, then: systemctl enable --now webfilter"
  fi
fi
