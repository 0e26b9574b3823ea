#!/usr/bin/env bash
# The seed's manual steps for one container, as a person would type them: the baseline netdiag
# is measured against. Usage: manual-sequence.sh CONTAINER
c=$1
docker port "$c" >/dev/null
ip=$(docker inspect --format '{{.NetworkSettings.IPAddress}}' "$c")
ping -c1 -W1 "$ip" >/dev/null 2>&1
docker exec "$c" busybox netstat -tln >/dev/null 2>&1
exit 0
