#!/usr/bin/env bash
# What a user types to see why a container cannot get out: the name, an echo, a connection.
# bench/run.py times it beside `netdiag why-unreachable NAME:PORT --from container:C`.
c=$1 name=$2 port=$3
docker exec "$c" cat /etc/resolv.conf >/dev/null
docker exec "$c" nslookup "$name" >/dev/null 2>&1
docker exec "$c" ping -c 1 -W 1 "$name" >/dev/null 2>&1
docker exec "$c" sh -c "printf 'HEAD / HTTP/1.0\r\n\r\n' | nc -w 2 $name $port" >/dev/null 2>&1
exit 0
