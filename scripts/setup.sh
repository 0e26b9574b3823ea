#!/usr/bin/env bash
# Everything netdiag's demo and tests need on a Debian machine, installed only when missing:
# Debian's docker.io and network tools, a Python venv with netdiag and its test extra, a running
# dockerd, and the locally built test images (no registry needed). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${NETDIAG_VENV:-$ROOT/.venv}
say() { printf '[setup] %s\n' "$*" >&2; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    say "run as root: netdiag's lab installs packages, starts dockerd and creates network namespaces"
    exit 2
  fi
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v iptables-save >/dev/null || missing+=(iptables)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v ping >/dev/null || missing+=(iputils-ping)
  command -v socat >/dev/null || missing+=(socat)
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  command -v nsenter >/dev/null || missing+=(util-linux)
  command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)  # the outbound lab's DNS server
  command -v nft >/dev/null || missing+=(nftables)  # nftables tables beside iptables (and their tests)
  command -v openssl >/dev/null || missing+=(openssl)  # certificates for the lab's TLS daemon
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)  # the lab's daemon over ssh:// (never started as a service)
  command -v docker-compose >/dev/null || missing+=(docker-compose)  # Compose projects in the tests
  # the report's screenshot test renders HTML in headless Chromium (scripts/test asks for it)
  if [ -n "${NETDIAG_WITH_CHROMIUM:-}" ]; then command -v chromium >/dev/null || missing+=(chromium); fi
  # Podman's Docker-compatible API for the Podman test group: without its recommends (buildah,
  # fuse-overlayfs...), with netavark, its network backend (runc comes with docker.io)
  local podman=()
  command -v podman >/dev/null || podman=(podman netavark aardvark-dns)
  # rootless Podman for its test group: user namespaces (newuidmap) and its user-space network
  command -v newuidmap >/dev/null || podman+=(uidmap)
  command -v slirp4netns >/dev/null || podman+=(slirp4netns)
  if [ ${#missing[@]} -gt 0 ] || [ ${#podman[@]} -gt 0 ]; then
    say "installing ${missing[*]} ${podman[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # no package may start a service here (openssh-server would start sshd on port 22)
    local policy=/usr/sbin/policy-rc.d made_policy=""
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1; fi
    if [ ${#missing[@]} -gt 0 ]; then apt-get install -y -qq "${missing[@]}" >/dev/null; fi
    if [ ${#podman[@]} -gt 0 ]; then apt-get install -y -qq --no-install-recommends "${podman[@]}" >/dev/null; fi
    if [ -n "$made_policy" ]; then rm -f "$policy"; fi
  fi
}

install_python() {
  local stamp=$VENV/.netdiag-installed
  if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && "$VENV/bin/python" -c 'import netdiag' 2>/dev/null; then
    return
  fi
  say "installing netdiag and its test extra into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -e "$ROOT[test]"
  touch "$stamp"
}

add_rootless_user() {  # the unprivileged user the lab's rootless Podman runs as, with subordinate ids
  local user=ndt-rootless
  id "$user" >/dev/null 2>&1 || useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  grep -q "^$user:" /etc/subuid 2>/dev/null || usermod --add-subuids 300000-365535 "$user"
  grep -q "^$user:" /etc/subgid 2>/dev/null || usermod --add-subgids 300000-365535 "$user"
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then return; fi
  say "starting dockerd (log: /var/log/netdiag-dockerd.log)"
  setsid dockerd >/var/log/netdiag-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    sleep 0.5
  done
  say "dockerd did not answer within 30s; its log says:"
  tail -20 /var/log/netdiag-dockerd.log >&2
  exit 3
}

build_image() {  # NAME "APPLETS" EXTRA_IMPORT_CHANGE...
  local name=$1 applets=$2; shift 2
  docker image inspect "$name" >/dev/null 2>&1 && return
  say "building $name from busybox-static"
  local dir
  dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/www" "$dir/tmp" "$dir/etc"
  cp /bin/busybox "$dir/bin/busybox"
  # no netstat and no curl, like most images in the field: netdiag must not need them
  for applet in $applets; do
    ln -s busybox "$dir/bin/$applet"
  done
  echo '<h1>netdiag lab</h1>' > "$dir/www/index.html"
  echo 'root:x:0:0:root:/:/bin/sh' > "$dir/etc/passwd"
  tar -C "$dir" -c . | docker import -c 'CMD ["/bin/sh"]' "$@" - "$name" >/dev/null
  rm -rf "$dir"
}

if [ "${1:-}" = "--python" ]; then  # only the virtualenv: enough to explain recorded bundles
  install_python
  exit 0
fi
need_root
install_packages
install_python
add_rootless_user
start_dockerd
TOOLS="sh httpd nc ip ifconfig ping cat sleep nslookup echo printf ls ps grep true udhcpd"
build_image netdiag-lab/busybox:2 "$TOOLS"
build_image netdiag-lab/webapp:2 "$TOOLS" -c 'EXPOSE 5000'
build_image netdiag-lab/bare:2 "sh httpd sleep"  # not even cat: sockets unreadable through docker exec
say "ready: $("$VENV/bin/netdiag" --version), $(docker version --format 'dockerd {{.Server.Version}}')"
