//! Integration tests of `provguard-dynamics`: the paper's reference values, properties on
//! random ecosystems, and the ecosystem file format.

mod file_format;
mod properties;
mod reference;
mod regressions;
mod util;
