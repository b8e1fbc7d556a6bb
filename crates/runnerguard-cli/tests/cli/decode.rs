//! Input is read as kubectl and Helm read it (issue #9 E1-E5).

#[allow(unused_imports)]
use super::*;
