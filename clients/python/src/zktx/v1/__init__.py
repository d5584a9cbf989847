"""The v1 contract's messages and gRPC stubs, generated from proto/zktx/v1/verifier.proto.

Regenerate with ``python tools/generate.py`` (grpcio-tools and mypy-protobuf); a test fails
when these files differ from what the pinned generators make of the current .proto.
"""
