//! Placeholder until the lifecycle story lands.
fn main() {}
