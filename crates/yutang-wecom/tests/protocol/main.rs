//! Black-box tests of the crate's public protocol API, in one test binary (each extra test
//! binary costs link time):
//!
//! - `known_vectors`: our implementation against vectors produced without it
//!   (`tests/vectors/gen_vectors.py`, Python + OpenSSL / `cryptography`).
//! - `roundtrip`: property tests of encrypt → decrypt, tampering and garbage input.
//! - `fuzz`: a fixed-size proptest-driven fuzz run of the event parser.

// Tests may unwrap and panic (the workspace denies it in library code only).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fuzz;
mod known_vectors;
mod roundtrip;
