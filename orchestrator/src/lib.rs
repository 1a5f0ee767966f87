//! orgtrail: roll out AWS CloudTrail across an AWS Organization in safe, resumable waves.
//!
//! Data flows one way: config → inventory → plan → executor → steps → state → report.
pub mod access;
pub mod aws;
pub mod config;
pub mod discovery;
pub mod exit;
pub mod executor;
pub mod plan;
pub mod policy;
pub mod remote_state;
pub mod report;
pub mod remove;
pub mod report_html;
pub mod rollout;
pub mod saved_plan;
pub mod securityhub;
pub mod selection;
pub mod steps;
pub mod suggest;
pub mod validate;
pub mod verify;
