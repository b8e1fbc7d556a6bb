//! No secret reaches any output, error paths included (issue #9 S1, C1).

#[allow(unused_imports)]
use super::*;
