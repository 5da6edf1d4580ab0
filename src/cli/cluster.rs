//! `fleetctl cluster new`: scaffold a new cluster from fleetctl's platform template or a cluster of the same platform.

use super::Globals;
use crate::error::UserError;
use crate::fleet::scaffold::{scaffold, NewCluster};

pub fn new(g: &Globals, n: NewCluster) -> Result<i32, UserError> {
    let done = scaffold(&g.repo, &n)?;
    println!(
        "scaffolded clusters/{} from {} ({} files)",
        n.name,
        done.source,
        done.files.len()
    );
    for t in &done.todo {
        println!("  next: {t}");
    }
    Ok(0)
}
