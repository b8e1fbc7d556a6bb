//! The JSON documents the CLI writes, as versioned types. Each version's types are built
//! from the library's values and written by the reporters; the JSON Schema in
//! docs/schema/ is generated from them ([`v1::json_schema`]).

pub mod v1;
