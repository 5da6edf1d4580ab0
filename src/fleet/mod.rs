//! The fleet repository: cluster descriptions and kustomize rendering.

pub mod cluster;
pub mod render;
pub mod scaffold;

pub use cluster::{ClusterSpec, Platform};
