//! One module per rollout subcommand; the small ones stay in main.rs.
pub mod apply;
pub mod plan;
pub mod policies;
pub mod state;
pub mod status;
pub mod verify;
