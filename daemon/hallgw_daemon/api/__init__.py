"""The gRPC API (``hallgw.v1``): servicers, interceptors, error mapping, health and reflection."""
