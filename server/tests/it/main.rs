//! Service integration: a real server on ephemeral loopback ports, driven by a
//! real tonic client and a real HTTP client.

mod durability;
mod errors;
mod grpc;
mod harness;
mod openapi;
mod privacy;
mod rest;
mod sandbox;
