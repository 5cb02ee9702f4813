//! The transparency log of finished proofs: appending a leaf (inside the
//! transaction that stores the proof), receipts, signed tree heads and
//! consistency proofs, all from the stored perfect subtrees.
use crate::error::{Result, ServiceError};
use chotomoni_storage::translog::{self as store, HeadRow};
use chotomoni_storage::{Conn, Engine};
use chotomoni_translog::merkle::{self, Hash, NodeId};
use chotomoni_translog::{checkpoint, Checkpoint, ProofLeaf, Receipt, SigningKey};
use std::collections::HashMap;

/// Hashes of stored nodes, fetched in one go before a computation.
struct Nodes(HashMap<NodeId, Hash>);

impl Nodes {
    async fn fetch(conn: &mut Conn, wanted: &[NodeId]) -> Result<Nodes> {
        let pairs: Vec<(u8, u64)> = wanted.iter().map(|n| (n.level, n.index)).collect();
        let mut found = HashMap::with_capacity(pairs.len());
        for (level, index, hash) in store::nodes(conn, &pairs).await? {
            let hash: Hash = hash
                .try_into()
                .map_err(|_| ServiceError::Internal("a stored log node is not 32 bytes".into()))?;
            found.insert(NodeId { level, index }, hash);
        }
        Ok(Nodes(found))
    }

    fn get(&self) -> impl Fn(NodeId) -> Option<Hash> + '_ {
        |id| self.0.get(&id).copied()
    }
}

fn tree_error(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("proof log: {e}"))
}

/// Appends `leaf` and signs the new tree head; returns the leaf's index.
/// Must run inside the write transaction that records the proof.
pub async fn append(
    conn: &mut Conn,
    engine: Engine,
    key: &SigningKey,
    leaf: &ProofLeaf,
) -> Result<u64> {
    store::lock_for_append(conn, engine).await?;
    let size = store::size(conn).await?;
    let needed = merkle::nodes_needed_for_append(size).map_err(tree_error)?;
    let known = Nodes::fetch(conn, &needed).await?;
    let added = merkle::append(size, leaf.hash(), known.get()).map_err(tree_error)?;
    let rows: Vec<(u8, u64, [u8; 32])> =
        added.iter().map(|(n, h)| (n.level, n.index, *h)).collect();
    store::insert_nodes(conn, &rows).await?;
    let new_size = size + 1;
    let for_root = Nodes::fetch(conn, &merkle::nodes_needed_for_root(new_size)).await?;
    let root = merkle::root(new_size, for_root.get()).map_err(tree_error)?;
    let note = checkpoint::sign(
        &Checkpoint {
            origin: key.name().to_owned(),
            size: new_size,
            root,
        },
        key,
    )
    .map_err(tree_error)?;
    store::insert_head(
        conn,
        &HeadRow {
            size: new_size as i64,
            root: root.to_vec(),
            signed_note: note,
            at: crate::now_ms(),
        },
    )
    .await?;
    Ok(size)
}

/// The receipt of the leaf at `index`: its inclusion in the newest signed head.
pub async fn receipt(
    conn: &mut Conn,
    key: &SigningKey,
    leaf: ProofLeaf,
    index: u64,
) -> Result<Receipt> {
    let head = store::latest_head(conn)
        .await?
        .ok_or_else(|| ServiceError::Internal("the proof log has no signed head".into()))?;
    let size = head.size as u64;
    let needed = merkle::nodes_needed_for_inclusion_proof(index, size).map_err(tree_error)?;
    let nodes = Nodes::fetch(conn, &needed).await?;
    let path = merkle::inclusion_proof(index, size, nodes.get()).map_err(tree_error)?;
    Ok(Receipt::new(
        leaf,
        index,
        size,
        &path,
        head.signed_note,
        key.verifier_key(),
    ))
}

/// The newest signed tree head (a C2SP checkpoint note).
pub async fn latest(conn: &mut Conn) -> Result<Option<HeadRow>> {
    Ok(store::latest_head(conn).await?)
}

/// Proof that the signed head of size `new` extends the one of size `old`.
pub struct Consistency {
    pub old: HeadRow,
    pub new: HeadRow,
    pub proof: Vec<Hash>,
}

pub async fn consistency(conn: &mut Conn, old: u64, new: u64) -> Result<Consistency> {
    if old == 0 || old > new {
        return Err(chotomoni_domain::FieldError::new("from", "must be between 1 and `to`").into());
    }
    let (Some(old_head), Some(new_head)) =
        (store::head(conn, old).await?, store::head(conn, new).await?)
    else {
        return Err(ServiceError::NotFound("signed tree head"));
    };
    let needed = merkle::nodes_needed_for_consistency_proof(old, new).map_err(tree_error)?;
    let nodes = Nodes::fetch(conn, &needed).await?;
    let proof = merkle::consistency_proof(old, new, nodes.get()).map_err(tree_error)?;
    Ok(Consistency {
        old: old_head,
        new: new_head,
        proof,
    })
}
