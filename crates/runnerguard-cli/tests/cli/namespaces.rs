//! Namespace-less namespaced objects are checked where they could land (issue #9 E7).

#[allow(unused_imports)]
use super::*;
