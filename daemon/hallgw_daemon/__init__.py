"""hallgw daemon: everything that touches the world (links, devices, gRPC, logs)."""
