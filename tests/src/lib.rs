//! The local AWS sandbox for orgtrail's tests and demo: the moto server launcher and the
//! organization seeder. One launcher serves both the `sandbox` command and the test harness.
pub mod emulator;
pub mod fault_proxy;
pub mod seed;

pub use emulator::Emulator;
pub use seed::{sandbox_config, sdk_config, seed, SeededOrg};
pub mod harness;
pub use harness::Sandbox;
