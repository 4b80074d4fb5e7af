//! The conformance suite every store runs (feature `testing`). Filled in below.
