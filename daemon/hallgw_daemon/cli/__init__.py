"""hallctl: the field engineers' command line client of the gateway.

It talks to the daemon over gRPC only (the ``hallgw_api.v1`` stubs), so it works
on the gateway itself and from a laptop on the hall network alike. Rendering
(``render``, ``views``, ``masking``) is kept apart from the calls (``client``)
so that what an engineer sees can be tested without a gateway.
"""
