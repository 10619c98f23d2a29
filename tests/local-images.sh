#!/usr/bin/env bash
# Builds this machine's stand-ins for the labs' public images from Debian's
# packages, so tests and offline classrooms need no registry:
#
#   seclab-local/busybox:1.36   (stands in for busybox:1.36)
#
# Idempotent: an image that exists is kept. Each carries the label
# seclab.dev/cache=true (kept between runs; seclab's cleanup never removes it).
# The last line printed is the image map to use:
#
#   SECLAB_IMAGE_MAP=busybox:1.36=seclab-local/busybox:1.36
#
# Exits non-zero with the reason when it cannot build (no Docker CLI or
# engine, not Debian, busybox-static missing and not root).
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

busybox_image

echo "SECLAB_IMAGE_MAP=busybox:1.36=seclab-local/busybox:1.36"
