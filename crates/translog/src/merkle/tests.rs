use super::*;
use std::cell::RefCell;
use std::collections::HashMap;

mod known_answers;
mod rfc_reference;

/// In-memory stand-in for the SQL table, recording which nodes are read so
/// tests can hold each operation to its `nodes_needed_for_*` promise.
#[derive(Default)]
struct Store {
    nodes: HashMap<NodeId, Hash>,
    reads: RefCell<Vec<NodeId>>,
}

impl Store {
    fn with_leaves(leaf_hashes: &[Hash]) -> Store {
        let mut store = Store::default();
        for (size_before, leaf) in (0u64..).zip(leaf_hashes) {
            let needed = nodes_needed_for_append(size_before).unwrap();
            let completed = append(size_before, *leaf, store.get()).unwrap();
            assert_eq!(
                store.take_reads(),
                sorted(needed),
                "append({size_before}) reads"
            );
            store.nodes.extend(completed);
        }
        store
    }

    fn get(&self) -> impl Fn(NodeId) -> Option<Hash> + '_ {
        |node| {
            self.reads.borrow_mut().push(node);
            self.nodes.get(&node).copied()
        }
    }

    /// The nodes read since the last call, sorted: `nodes_needed_for_*`
    /// promises a set, not an order.
    fn take_reads(&self) -> Vec<NodeId> {
        let mut reads = std::mem::take(&mut *self.reads.borrow_mut());
        reads.sort();
        reads
    }
}

fn sorted(mut nodes: Vec<NodeId>) -> Vec<NodeId> {
    nodes.sort();
    nodes
}
