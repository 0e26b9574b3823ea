"""Parsed addresses, cached: the same few routes and subnets are looked at for every container."""

from __future__ import annotations

import functools
import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8192)
def address(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


@functools.lru_cache(maxsize=8192)
def network(text: str) -> IPNetwork:
    return ipaddress.ip_network(text, strict=False)


@functools.lru_cache(maxsize=8192)
def interface_network(text: str) -> IPNetwork:
    return ipaddress.ip_interface(text).network


def is_ip(text: str) -> bool:
    """Whether `text` is an IPv4 or IPv6 address (not a name, not a network)."""
    try:
        address(text)
        return True
    except ValueError:
        return False
