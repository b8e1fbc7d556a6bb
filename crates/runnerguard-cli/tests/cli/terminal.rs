//! Text from inputs is escaped before it reaches a terminal (issue #9 T1).

#[allow(unused_imports)]
use super::*;
