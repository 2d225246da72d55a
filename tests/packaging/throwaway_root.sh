#!/usr/bin/env bash
# Installs a stockrelay .deb into a throw-away root and checks what the
# package promises: install (postinst creates the user and the environment
# file), `import stockrelay_native` with /usr/bin/python3, `stockrelayd --help`,
# the unit (`systemd-analyze verify`, ExecStart=/usr/bin/stockrelayd), the
# addons, the systemd calls of the maintainer scripts, remove and purge.
#
# usage (as root, see test_deb_package.py):
#   unshare --mount --pid --fork --kill-child tests/packaging/throwaway_root.sh <deb> <empty dir>
# The throw-away root is an overlay of the host's / whose upper layer is a
# tmpfs mounted in this process's private mount namespace: whatever dpkg,
# adduser and the maintainer scripts write lands there and vanishes with the
# namespace, also when a check fails half-way. Prints "ok <check>" per check,
# "FAIL <check>: <why>" and exits 1 on the first failure.
set -euo pipefail
deb=$1 scratch=$2

fail() { echo "FAIL $1: $2"; exit 1; }
ok() { echo "ok $1"; }

[ "$(id -u)" = 0 ] || fail setup "needs root (it mounts an overlay)"
mount --make-rprivate /
mount -t tmpfs -o size=1g,mode=0755 stockrelay-throwaway "$scratch"
mkdir "$scratch/upper" "$scratch/work" "$scratch/root"
R=$scratch/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$scratch/upper,workdir=$scratch/work" "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t sysfs -o ro sysfs "$R/sys"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/tmp"
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# The root starts as the host: forget any stockrelay the host has (a package,
# a `cmake --install` into /usr/local) so every check sees this package only.
in_root dpkg --purge stockrelay >/dev/null 2>&1 || true
rm -rf "$R"/usr/local/lib/python3*/dist-packages/stockrelay_native* "$R/usr/local/bin/stockrelayd" \
       "$R/etc/stockrelay"
in_root deluser --system --quiet stockrelay >/dev/null 2>&1 || true
# A systemd that records what the maintainer scripts ask of it: unit-file
# operations (preset, enable, is-enabled, ...) go to the real systemctl, which
# works offline on the root's files; start/stop/restart are only recorded, and
# the unit reports itself active so deb-systemd-invoke passes every call on.
rm -f "$R/usr/sbin/policy-rc.d"
mkdir -p "$R/run/systemd/system"
real=$(readlink -f "$R/usr/bin/systemctl" 2>/dev/null || true)
[ -x "$real" ] || real=$(readlink -f "$R/bin/systemctl")
cp "$real" "$R/usr/bin/systemctl.real"
rm -f "$R/usr/bin/systemctl" "$R/bin/systemctl" 2>/dev/null || true
cat > "$R/usr/bin/systemctl" <<'SH'
#!/bin/sh
echo "$*" >> /run/systemctl.log
for a in "$@"; do
  case "$a" in
    start|stop|restart|reload|try-restart|daemon-reload|is-active) exit 0 ;;
    preset|enable|disable|reenable|mask|unmask|is-enabled) exec /usr/bin/systemctl.real "$@" ;;
  esac
done
exit 0
SH
chmod 755 "$R/usr/bin/systemctl"
calls() { cat "$R/run/systemctl.log" 2>/dev/null; : > "$R/run/systemctl.log"; }
cp "$deb" "$R/tmp/stockrelay.deb"

# --- install --------------------------------------------------------------
out=$(in_root dpkg -i /tmp/stockrelay.deb 2>&1) || fail install "dpkg -i failed: $out"
ok install
pw=$(in_root getent passwd stockrelay) || fail user "postinst created no stockrelay user"
IFS=: read -r _ _ uid _ _ home shell <<<"$pw"
[ "$uid" -lt 1000 ] || fail user "stockrelay is not a system user (uid $uid)"
case "$shell" in */nologin|/bin/false) ;; *) fail user "stockrelay has a login shell ($shell)" ;; esac
[ "$home" = /nonexistent ] || fail user "stockrelay has home $home"
ok "user stockrelay uid=$uid shell=$shell"
conf=$R/etc/stockrelay/stockrelayd.env
[ "$(stat -c %a:%U "$conf")" = 600:root ] || fail config "$conf is $(stat -c %a:%U "$conf"), want 600:root"
ok config
c=$(calls)
case "$c" in *start*) fail systemd "an unconfigured install started the daemon: $c" ;; esac
[ -L "$R/etc/systemd/system/multi-user.target.wants/stockrelayd.service" ] ||
  fail systemd "the unit was not enabled on install: $c"
ok "systemd: enabled, not started without a database"

# --- the module, the daemon, the unit, the addons ------------------------
py=$(in_root /usr/bin/python3 -c 'import importlib.metadata as m, stockrelay_native as s
print(s.__file__, s.SCHEMA_VERSION, m.version("stockrelay_native"))') ||
  fail import "/usr/bin/python3 cannot import stockrelay_native: $py"
case "$py" in /usr/lib/python3/dist-packages/stockrelay_native/__init__.py*) ;;
  *) fail import "imported from the wrong place: $py" ;; esac
ok "import stockrelay_native ($py)"
help=$(in_root /usr/bin/stockrelayd --help 2>&1) || fail help "stockrelayd --help failed: $help"
grep -q "run" <<<"$help" || fail help "stockrelayd --help does not list run: $help"
ok "stockrelayd --help"
unit=/usr/lib/systemd/system/stockrelayd.service
grep -qx "ExecStart=/usr/bin/stockrelayd .*" "$R$unit" || fail unit "ExecStart is not /usr/bin/stockrelayd: $(grep ExecStart "$R$unit")"
grep -qx "User=stockrelay" "$R$unit" || fail unit "the unit does not run as stockrelay"
v=$(in_root systemd-analyze verify "$unit" 2>&1) || fail unit "systemd-analyze verify: $v"
[ -z "$v" ] || fail unit "systemd-analyze verify warns: $v"
ok "unit passes systemd-analyze verify"
addons=/usr/lib/python3/dist-packages/odoo/addons
for a in stock_relay stock_relay_sale stock_relay_mrp; do
  in_root /usr/bin/python3 -c "import ast, sys; m = ast.literal_eval(open(sys.argv[1]).read()); assert m['installable']" \
    "$addons/$a/__manifest__.py" || fail addons "$addons/$a/__manifest__.py is missing or not installable"
done
ok "addons in $addons"

# --- upgrade (reinstall) once configured: the daemon is restarted ---------
echo 'STOCKRELAY_DSN=host=/run/postgresql dbname=odoo user=stockrelay' >> "$conf"
out=$(in_root dpkg -i /tmp/stockrelay.deb 2>&1) || fail upgrade "dpkg -i over itself failed: $out"
grep -q "STOCKRELAY_DSN=host" "$conf" || fail upgrade "the upgrade overwrote $conf"
c=$(calls)
grep -q "restart stockrelayd.service" <<<"$c" || fail upgrade "a configured daemon was not restarted: $c"
ok "upgrade keeps the configuration and restarts the daemon"

# --- remove: stopped, files gone, user and configuration kept -------------
out=$(in_root dpkg -r stockrelay 2>&1) || fail remove "dpkg -r failed: $out"
c=$(calls)
grep -q "stop stockrelayd.service" <<<"$c" || fail remove "the daemon was not stopped: $c"
for f in /usr/bin/stockrelayd $unit /usr/lib/python3/dist-packages/stockrelay_native $addons/stock_relay; do
  [ ! -e "$R$f" ] || fail remove "$f is still there"
done
in_root getent passwd stockrelay >/dev/null || fail remove "the user went on remove"
[ -f "$conf" ] || fail remove "$conf went on remove"
if in_root /usr/bin/python3 -c 'import stockrelay_native' 2>/dev/null; then fail remove "stockrelay_native still imports"; fi
ok "remove: stopped, files gone, user and configuration kept"

# --- purge: nothing of ours is left -----------------------------------------
out=$(in_root dpkg -P stockrelay 2>&1) || fail purge "dpkg -P failed: $out"
[ ! -e "$R/etc/stockrelay" ] || fail purge "/etc/stockrelay is still there: $(ls -la "$R/etc/stockrelay")"
if in_root getent passwd stockrelay >/dev/null; then fail purge "the stockrelay user is still there"; fi
if in_root getent group stockrelay >/dev/null; then fail purge "the stockrelay group is still there"; fi
left=$(cd "$scratch/upper" && find . \( -path ./run -o -path ./tmp -o -path ./var/log -o -path ./var/cache \) -prune \
         -o -iname '*stockrelay*' ! -type c -print)   # (a char device 0/0 is a whiteout: a host file we hid)
[ -z "$left" ] || fail purge "left behind: $left"
in_root dpkg-query -W -f='${db:Status-Abbrev}' stockrelay >/dev/null 2>&1 && fail purge "dpkg still knows stockrelay"
ok "purge: nothing of ours left"
