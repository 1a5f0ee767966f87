//! Rollout state (in progress).
