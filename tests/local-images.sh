#!/usr/bin/env bash
# Builds this machine's stand-ins for the labs' public images from Debian's
# packages, so tests and offline classrooms need no registry:
#
#   seclab-local/busybox:1.36   (stands in for busybox:1.36)
#   seclab-local/python:3.11.4-bookworm, seclab-local/python:3.11-slim-bookworm,
#   seclab-local/distroless-python3-debian12:nonroot (see python_images)
#
# Idempotent: an image that exists is kept. Each carries the label
# seclab.dev/cache=true (kept between runs; seclab's cleanup never removes it).
# The last line printed is the image map to use:
#
#   SECLAB_IMAGE_MAP=busybox:1.36=seclab-local/busybox:1.36,python:...
#
# Exits non-zero with the reason when it cannot build (no Docker CLI or
# engine, not Debian, busybox-static or debootstrap missing and not root).
# The Python stand-ins take about a minute and a half (debootstrap).
set -euo pipefail

die() {
    echo "local-images.sh: $*" >&2
    exit 1
}

command -v docker >/dev/null 2>&1 || die "no docker command: install the Docker CLI"
docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1 ||
    die "cannot reach the Docker engine (${DOCKER_HOST:-unix:///var/run/docker.sock}): start Docker or set DOCKER_HOST"

exists() {
    docker image inspect "$1" >/dev/null 2>&1
}

busybox_image() {
    local tag=seclab-local/busybox:1.36
    if exists "$tag"; then
        echo "kept $tag (exists)" >&2
        return
    fi
    if [ ! -x /bin/busybox ] || ! /bin/busybox --list 2>/dev/null | grep -qx ip; then
        command -v apt-get >/dev/null 2>&1 || die "not Debian: cannot install busybox-static to build $tag"
        [ "$(id -u)" = 0 ] || die "busybox-static is not installed: run 'apt-get install -y busybox-static' as root"
        echo "installing busybox-static" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static; } >&2 ||
            die "apt-get install busybox-static failed"
    fi
    # busybox-static is a static binary: it runs in an image with nothing else.
    file_out=$(od -An -c -N4 /bin/busybox | tr -d ' ')
    [ "$file_out" = '177ELF' ] || die "/bin/busybox is not an ELF binary"

    local root
    root=$(mktemp -d)
    trap 'rm -rf "$root"' RETURN
    mkdir -p "$root"/{bin,etc,root,home,tmp,usr/local/bin,var/run,proc,sys,dev}
    chmod 1777 "$root/tmp"
    chmod 700 "$root/root"
    cp /bin/busybox "$root/bin/busybox"
    # One link per applet, in /bin like the real image (sh, ip, id, cp, ...).
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
    echo "building $tag from Debian's busybox-static" >&2
    tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
        docker import --change 'CMD ["sh"]' --change 'LABEL seclab.dev/cache=true' - "$tag" >&2 ||
        die "docker import of $tag failed"
}

# --- Python stand-ins, all from one Debian bookworm minbase root + python3 ---
#
#   seclab-local/python:3.11.4-bookworm  (python:3.11.4-bookworm: the full
#       image: shell, apt, dpkg, pip; root; CMD ["python3"])
#   seclab-local/python:3.11-slim-bookworm  (python:3.11-slim-bookworm:
#       shell, apt, dpkg, no compilers; root; CMD ["python3"])
#   seclab-local/distroless-python3-debian12:nonroot
#       (gcr.io/distroless/python3-debian12:nonroot: no shell, no apt or
#       dpkg binaries, the package list as /var/lib/dpkg/status.d/<name>
#       files like distroless, user 65532 "nonroot", WORKDIR /home/nonroot,
#       ENTRYPOINT ["/usr/bin/python3.11"])
#
# Debian's python3 is 3.11.2 where the real images have their own build of
# Python in /usr/local: the interpreter differs in patch level, the layout
# (shell, package managers, users) is what the real image has.
PY_FULL=seclab-local/python:3.11.4-bookworm
PY_SLIM=seclab-local/python:3.11-slim-bookworm
PY_DISTROLESS=seclab-local/distroless-python3-debian12:nonroot
DEBIAN_MIRROR=${SECLAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PY_ENV_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

import_root() { # root tag change...
    local root=$1 tag=$2
    shift 2
    local changes=()
    for c in "$@" 'LABEL seclab.dev/cache=true'; do changes+=(--change "$c"); done
    tar --numeric-owner -C "$root" -c . | docker import "${changes[@]}" - "$tag" >&2 ||
        die "docker import of $tag failed"
}

python_images() {
    if exists "$PY_FULL" && exists "$PY_SLIM" && exists "$PY_DISTROLESS"; then
        echo "kept $PY_FULL, $PY_SLIM, $PY_DISTROLESS (exist)" >&2
        return
    fi
    [ "$(id -u)" = 0 ] || die "building the Python stand-ins needs root (debootstrap, chroot)"
    if ! command -v debootstrap >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || die "not Debian: cannot install debootstrap"
        echo "installing debootstrap" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >&2 ||
            die "apt-get install debootstrap failed"
    fi
    local work
    work=$(mktemp -d /tmp/seclab-py-images.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" RETURN
    local started=$SECONDS
    echo "debootstrap bookworm (minbase + python3) from $DEBIAN_MIRROR" >&2
    debootstrap --variant=minbase --include=python3 bookworm "$work/base" "$DEBIAN_MIRROR" \
        >"$work/debootstrap.log" 2>&1 || {
        tail -n 20 "$work/debootstrap.log" >&2
        die "debootstrap failed (log above)"
    }
    rm -rf "$work/base/var/cache/apt/archives/"*.deb "$work/base/var/lib/apt/lists/"*
    echo "debootstrap took $((SECONDS - started)) s" >&2

    if ! exists "$PY_SLIM"; then
        echo "building $PY_SLIM" >&2
        import_root "$work/base" "$PY_SLIM" "ENV PATH=$PY_ENV_PATH" 'ENV LANG=C.UTF-8' 'CMD ["python3"]'
    fi

    if ! exists "$PY_DISTROLESS"; then
        echo "building $PY_DISTROLESS" >&2
        local d="$work/distroless"
        cp -a "$work/base" "$d"
        # The package list as distroless keeps it: one status file per package.
        mkdir -p "$d/var/lib/dpkg/status.d"
        awk -v dir="$d/var/lib/dpkg/status.d" '
            /^Package: / { name = $2 }
            { block = block $0 "\n" }
            /^$/ { if (name != "") printf "%s", block > (dir "/" name); close(dir "/" name); block = ""; name = "" }
            END { if (name != "") printf "%s", block > (dir "/" name) }
        ' "$d/var/lib/dpkg/status"
        # No shell, no package manager, no perl: distroless has none of them.
        rm -rf "$d"/usr/bin/{sh,bash,rbash,dash,bashbug} "$d"/usr/bin/apt* "$d"/usr/bin/dpkg* \
            "$d"/usr/bin/perl* "$d"/usr/bin/debconf* "$d"/usr/sbin/dpkg* "$d"/usr/lib/apt \
            "$d"/etc/apt "$d"/var/lib/apt "$d"/var/cache/apt "$d"/var/cache/debconf "$d"/var/lib/dpkg/info \
            "$d"/var/lib/dpkg/status "$d"/var/lib/dpkg/status-old "$d"/var/lib/dpkg/available \
            "$d"/usr/share/doc "$d"/usr/share/man "$d"/usr/share/info
        echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >>"$d/etc/passwd"
        echo 'nonroot:x:65532:' >>"$d/etc/group"
        mkdir -p "$d/home/nonroot"
        chown 65532:65532 "$d/home/nonroot"
        import_root "$d" "$PY_DISTROLESS" "ENV PATH=$PY_ENV_PATH" \
            'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' 'USER 65532' \
            'WORKDIR /home/nonroot' 'ENTRYPOINT ["/usr/bin/python3.11"]'
        rm -rf "$d"
    fi

    if ! exists "$PY_FULL"; then
        echo "building $PY_FULL (+ pip)" >&2
        local f="$work/base"
        cp /etc/resolv.conf "$f/etc/resolv.conf"
        chroot "$f" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip python-is-python3 ca-certificates' \
            >"$work/pip.log" 2>&1 || {
            tail -n 20 "$work/pip.log" >&2
            die "installing pip into $PY_FULL failed (log above)"
        }
        rm -rf "$f/var/cache/apt/archives/"*.deb "$f/var/lib/apt/lists/"*
        # The real image's pip installs into its own Python; Debian marks
        # its Python as externally managed (PEP 668): lift that, as there.
        rm -f "$f"/usr/lib/python3*/EXTERNALLY-MANAGED
        # Trust what this machine trusts, so a build's `pip install` reaches
        # the package index the way the host's pip does.
        if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
            cat /etc/ssl/certs/ca-certificates.crt >"$f/etc/ssl/certs/ca-certificates.crt"
        fi
        : >"$f/etc/resolv.conf"
        import_root "$f" "$PY_FULL" "ENV PATH=$PY_ENV_PATH" 'ENV LANG=C.UTF-8' 'CMD ["python3"]'
    fi
    echo "Python stand-ins took $((SECONDS - started)) s" >&2
}

busybox_image
python_images

echo "SECLAB_IMAGE_MAP=busybox:1.36=seclab-local/busybox:1.36,python:3.11.4-bookworm=$PY_FULL,python:3.11-slim-bookworm=$PY_SLIM,gcr.io/distroless/python3-debian12:nonroot=$PY_DISTROLESS"
