//! `trace-report profile`: running a command under `nsys profile` and
//! keeping its report ([`profile`]); finding and running nsys itself is
//! `crate::nsys`'s, reading the report `crate::input`'s.

pub mod profile;
