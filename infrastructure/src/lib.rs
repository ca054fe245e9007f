//! placeholder

pub mod embedded;
pub mod error;
