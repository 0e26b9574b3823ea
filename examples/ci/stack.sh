#!/usr/bin/env bash
# The stack examples/ci/netdiag.yml describes, on netdiag's lab images: web (published), api
# (on network app, like web), db (published on loopback only). `stack.sh down` removes it.
set -euo pipefail
IMAGE=${NETDIAG_IMAGE:-netdiag-lab/busybox:2}
LABEL=${NETDIAG_LABEL:-netdiag.example=ci}
DNS=()
[ -n "${NETDIAG_DNS:-}" ] && DNS=(--dns "$NETDIAG_DNS")  # the tests keep lookups off the machine's resolver
if [ "${1:-up}" = down ]; then
  docker rm -f web api db >/dev/null 2>&1 || true
  docker network rm app >/dev/null 2>&1 || true
  exit 0
fi
docker network create --label "$LABEL" app >/dev/null
docker run -d --name api --label "$LABEL" --network app "${DNS[@]}" "$IMAGE" httpd -f -p 80 -h /www >/dev/null
docker run -d --name web --label "$LABEL" --network app "${DNS[@]}" -p 80 "$IMAGE" httpd -f -p 80 -h /www >/dev/null
docker run -d --name db --label "$LABEL" "${DNS[@]}" -p 127.0.0.1::5432 "$IMAGE" httpd -f -p 5432 -h /www >/dev/null
