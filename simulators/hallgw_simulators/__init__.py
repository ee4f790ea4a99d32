"""Simulated hall devices that speak the real protocols over real transports.

A simulator is a second, independent implementation of the device side: it
uses the codecs of :mod:`hallgw_protocols` in the device role and never imports
the daemon. :class:`~hallgw_simulators.hall.VirtualHall` starts the devices of a
scenario together with a JSON-lines control server; ``hallsim`` is its CLI.
"""
