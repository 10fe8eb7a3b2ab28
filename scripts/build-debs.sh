#!/usr/bin/env bash
# Builds the Debian packages with dpkg-deb alone (no network, no debhelper):
#   keyfleet         /usr/bin/keyfleet, /usr/bin/keyfleet-client: the toolkit and the registry client
#   keyfleet-server  /usr/bin/keyfleet-server, keyfleet-server.service, the `keyfleet` system user and its
#                    /var/lib/keyfleet-server (0750; the registry's data in /var/lib/keyfleet-server/data)
#   keyfleet-agent   /usr/bin/keyfleet-agent, /usr/bin/keyfleet-authorized-keys, keyfleet-agent.service
#
#   scripts/build-debs.sh [--build-dir DIR] [--output DIR] [--compression xz|zstd|gzip|none] [--allow-unpackaged-libs]
#
# Without --build-dir the five executables are built in release mode with the static Swift standard library,
# so that they need only libc6, libgcc-s1, libstdc++6 and zlib1g, which every Debian and Ubuntu image has:
# cloud-init installs keyfleet-agent with a plain `dpkg -i` on a stock image. --build-dir DIR packages the
# executables in DIR as they are. Depends is what dpkg-shlibdeps finds the executables need; an executable that
# needs a library no Debian package provides (a debug build's libswiftCore.so from the toolchain) is refused,
# unless --allow-unpackaged-libs (the test suite packages its debug build on a machine with the toolchain).
# Binaries are stripped into the packages. The version is keyfleetVersion (Sources/KeyfleetVersion), and every
# executable must report it. Packages go to --output (default .build/debs), named PACKAGE_VERSION_ARCH.deb.
# Installing starts nothing: the units are enabled and started by hand or by cloud-init.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=""
output=".build/debs"
compression="xz"
allow_unpackaged=false
while [ "$#" -gt 0 ]; do
    case "$1" in
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
    --output) output=${2:?--output needs a directory}; shift 2 ;;
    --compression) compression=${2:?--compression needs xz, zstd, gzip or none}; shift 2 ;;
    --allow-unpackaged-libs) allow_unpackaged=true; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-debs.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
    esac
done
case "$compression" in xz | zstd | gzip | none) ;; *) echo "build-debs.sh: --compression is xz, zstd, gzip or none" >&2; exit 1 ;; esac

version=$(sed -n 's/^public let keyfleetVersion = "\([^"]*\)"$/\1/p' Sources/KeyfleetVersion/*.swift)
[ -n "$version" ] || { echo "build-debs.sh: no keyfleetVersion in Sources/KeyfleetVersion" >&2; exit 1; }
# A pre-release (0.5.0-beta.1) sorts before its release in Debian as 0.5.0~beta.1.
deb_version=${version//-/\~}
arch=$(dpkg --print-architecture)
maintainer="Keyfleet maintainers <maintainers@users.noreply.h-seed-a6117e76.example>"
homepage="https://github.com/keyfleet/keyfleet"

executables=(keyfleet keyfleet-client keyfleet-server keyfleet-agent keyfleet-authorized-keys)
if [ -z "$build_dir" ]; then
    for product in "${executables[@]}"; do
        swift build -c release --static-swift-stdlib --product "$product"
    done
    build_dir=$(swift build -c release --static-swift-stdlib --show-bin-path)
fi
build_dir=$(cd "$build_dir" && pwd)
for product in "${executables[@]}"; do
    [ -x "$build_dir/$product" ] || { echo "build-debs.sh: $build_dir/$product is missing; build it first" >&2; exit 1; }
    reported=$("$build_dir/$product" --version)
    [ "$reported" = "$version" ] || {
        echo "build-debs.sh: $build_dir/$product reports version $reported, the source says $version; rebuild it" >&2
        exit 1
    }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$output"

# The Depends of executables. Every library they load must come from a Debian package (ldd, dpkg -S); the
# versions are dpkg-shlibdeps' (dpkg-dev) when it is installed, else the owning packages are named bare.
depends_of() {
    local library resolved owner owners packages=() libraries=()
    mapfile -t libraries < <(ldd "$@" | sed -n 's/^.* => \(\/[^ ]*\) (.*$/\1/p' | sort -u)
    [ "${#libraries[@]}" -gt 0 ] || { echo "build-debs.sh: ldd finds no libraries in $*" >&2; return 1; }
    # One dpkg -S for all (each call reads dpkg's whole database); a library is found by its path or its target.
    owners=$(for library in "${libraries[@]}"; do printf '%s\n%s\n' "$library" "$(readlink -f "$library")"; done |
        sort -u | xargs dpkg -S 2>/dev/null || true)
    for library in "${libraries[@]}"; do
        resolved=$(readlink -f "$library")
        if owner=$(printf '%s\n' "$owners" | grep -m1 -F -e ": $library" -e ": $resolved"); then
            packages+=("${owner%%:*}")
        elif ! "$allow_unpackaged"; then
            echo "build-debs.sh: $library, which $* load, is in no Debian package (the Swift runtime of a" \
                "toolchain?): build with --static-swift-stdlib, or pass --allow-unpackaged-libs" >&2
            return 1
        fi
    done
    if command -v dpkg-shlibdeps >/dev/null; then
        local shlibs="$work/shlibs" options=()
        mkdir -p "$shlibs/debian"
        printf 'Source: keyfleet\n' >"$shlibs/debian/control"
        ! "$allow_unpackaged" || options+=(--ignore-missing-info)
        if (cd "$shlibs" && dpkg-shlibdeps -O "${options[@]}" "$@" 2>"$work/shlibdeps.log") >"$work/shlibdeps.out"; then
            sed -n 's/^shlibs:Depends=//p' "$work/shlibdeps.out"
            return
        fi
        cat "$work/shlibdeps.log" >&2
        return 1
    fi
    printf '%s\n' "${packages[@]}" | sort -u | paste -sd, - | sed 's/,/, /g'
}

# maintainer_script PACKAGE NAME: DEBIAN/NAME from standard input, 0755.
maintainer_script() {
    install -d -m 0755 "$work/$1/DEBIAN"
    cat >"$work/$1/DEBIAN/$2"
    chmod 0755 "$work/$1/DEBIAN/$2"
}

# package NAME DEPENDS-EXTRA SUMMARY DESCRIPTION EXECUTABLE...: the tree, control file and .deb of one package.
package() {
    local name=$1 extra=$2 summary=$3 description=$4
    shift 4
    local root="$work/$name" binaries=() product depends
    install -d -m 0755 "$root/DEBIAN" "$root/usr/bin"
    for product in "$@"; do
        strip --strip-unneeded -o "$root/usr/bin/$product" "$build_dir/$product"
        chmod 0755 "$root/usr/bin/$product"
        binaries+=("$build_dir/$product")
    done
    depends=$(depends_of "${binaries[@]}")
    [ -z "$extra" ] || depends="$depends, $extra"
    {
        printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: %s\n' "$name" "$deb_version" "$arch" "$maintainer"
        printf 'Installed-Size: %s\nDepends: %s\n' "$(du -sk --exclude=DEBIAN "$root" | cut -f1)" "$depends"
        printf 'Section: admin\nPriority: optional\nHomepage: %s\nDescription: %s\n' "$homepage" "$summary"
        printf '%s\n' "$description" | fold -s -w 78 | sed 's/ *$//; s/^/ /'
    } >"$root/DEBIAN/control"
    chmod 0644 "$root/DEBIAN/control"
    dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$output/${name}_${deb_version}_${arch}.deb" >/dev/null
    echo "$output/${name}_${deb_version}_${arch}.deb"
}

# unit PACKAGE FILE: a systemd unit from packaging/ into /lib/systemd/system, 0644.
unit() {
    install -d -m 0755 "$work/$1/lib/systemd/system"
    install -m 0644 "packaging/$2" "$work/$1/lib/systemd/system/$2"
}

# The maintainer scripts of a package with a service: systemd is told of the unit only when it runs
# (not in a container or chroot), the service is never started by installing, restarted on upgrade only if it
# was running, stopped on removal; purge takes away what `systemctl enable` made.
service_scripts() {
    local name=$1 service=$2 configure=$3 purge=$4
    maintainer_script "$name" postinst <<EOF
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
$configure
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
    # An upgrade restarts a running service on the new binary; installing starts nothing.
    if [ "\$1" = configure ] && [ -n "\$2" ]; then systemctl try-restart $service >/dev/null || true; fi
fi
exit 0
EOF
    maintainer_script "$name" prerm <<EOF
#!/bin/sh
set -e
if [ "\$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop $service >/dev/null 2>&1 || true
fi
exit 0
EOF
    maintainer_script "$name" postrm <<EOF
#!/bin/sh
set -e
if [ "\$1" = purge ]; then
    rm -f /etc/systemd/system/*.wants/$service
$purge
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
exit 0
EOF
}

package keyfleet "" "SSH key toolkit and Keyfleet registry client" \
    "keyfleet makes, reads, converts, fingerprints and checks SSH keys in every format (OpenSSH, PEM, PKCS#8, \
RFC 4716, PuTTY .ppk), agreeing with ssh-keygen and PuTTYgen. keyfleet-client manages a Keyfleet registry: \
keys, projects, hosts, clusters, users, tokens and the audit log. keyfleet runs the other Keyfleet executables \
for their commands when they are installed." \
    keyfleet keyfleet-client

# keyfleet-server: the service runs as the system user keyfleet, whose home /var/lib/keyfleet-server (0750)
# holds the registry's data. Not /var/lib/keyfleet: that is the host agent's state directory, owned by root
# and 0700, and a registry machine is often a managed host too.
unit keyfleet-server keyfleet-server.service
service_scripts keyfleet-server keyfleet-server.service "$(
    cat <<'EOF'
    if ! getent passwd keyfleet >/dev/null; then
        if command -v adduser >/dev/null 2>&1; then
            adduser --system --group --home /var/lib/keyfleet-server --no-create-home --quiet keyfleet
        else
            useradd --system --user-group --home-dir /var/lib/keyfleet-server --no-create-home \
                --shell /usr/sbin/nologin keyfleet
        fi
    fi
    if [ ! -d /var/lib/keyfleet-server ]; then
        install -d -m 0750 -o keyfleet -g keyfleet /var/lib/keyfleet-server
    fi
EOF
)" "    rm -rf /var/lib/keyfleet-server"
package keyfleet-server "adduser | passwd" "Keyfleet registry server" \
    "The Keyfleet registry: named SSH keys of people and projects, servers and clusters, which key may log in \
where and as whom, with an HTTP API, an audit log and cloud-init for new servers, stored in an embedded SQLite \
database. Installing it starts nothing: systemctl enable --now keyfleet-server.service starts it as the \
keyfleet system user with its data in /var/lib/keyfleet-server; purging the package deletes that data." \
    keyfleet-server

# keyfleet-agent: purge deletes the host's credential and the lookup's cache; not /etc/ssh/keyfleet, which
# sshd may still read (keyfleet-agent uninstall takes sshd off it).
unit keyfleet-agent keyfleet-agent.service
service_scripts keyfleet-agent keyfleet-agent.service "    :" "    rm -rf /var/lib/keyfleet /var/lib/keyfleet-authorized"
package keyfleet-agent "" "Keyfleet host agent: keeps sshd's authorized keys in step with the registry" \
    "keyfleet-agent enrolls this host with a Keyfleet registry and keeps the keys sshd accepts exactly those \
the registry grants, within a second of a change, keeping the last answer when the registry is unreachable. \
keyfleet-authorized-keys is its AuthorizedKeysCommand for sshd. Installing it starts nothing: enroll, run \
keyfleet-agent install, then systemctl enable --now keyfleet-agent.service." \
    keyfleet-agent keyfleet-authorized-keys
