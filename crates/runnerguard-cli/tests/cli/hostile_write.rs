//! generate --out never leaves its directory (issue #9 W1).

#[allow(unused_imports)]
use super::*;
