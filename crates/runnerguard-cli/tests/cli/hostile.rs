//! Hostile inputs: bounded cost, clear errors (issue #9 C4, C5).

#[allow(unused_imports)]
use super::*;
