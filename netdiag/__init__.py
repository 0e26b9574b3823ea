"""netdiag: container-networking diagnostics.

When a container does not answer, netdiag gathers the facts (port mappings, addresses,
listeners, routes, firewall state, where the daemon lives) and says where the path breaks.
"""

__version__ = "0.1.0"
