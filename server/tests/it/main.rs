//! Service integration: a real server on ephemeral loopback ports, driven by a
//! real tonic client and a real HTTP client.

mod attestation;
mod audit;
mod backup;
mod billing;
mod bounds;
mod connections;
mod durability;
mod entitlements;
mod errors;
mod grpc;
mod harness;
mod openapi;
mod policy;
mod privacy;
mod replays;
mod rest;
mod sandbox;
mod strict_json;
