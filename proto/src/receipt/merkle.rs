//! The Merkle tree that one signature over a group of receipts stands on.
//!
//! It is the tree of RFC 9162 (Certificate Transparency 2.0), §2.1, with
//! SHA-256: a leaf hashes as `SHA-256(0x00 || leaf bytes)`, an interior node
//! as `SHA-256(0x01 || left || right)`, and a list of `n > 1` leaves splits at
//! the largest power of two below `n`. The distinct leaf and node prefixes
//! keep an interior node from being passed off as a leaf. An inclusion path
//! lists the sibling hashes from the leaf up; checking one follows
//! RFC 9162 §2.1.3.2.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash of a leaf.
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(bytes);
    hasher.finalize().into()
}

/// The hash of an interior node.
fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The root over `leaves` (leaf hashes, in order) and every leaf's inclusion
/// path, in one pass over the tree. `leaves` must not be empty.
pub fn root_and_paths(leaves: &[Hash]) -> (Hash, Vec<Vec<Hash>>) {
    let mut paths = vec![Vec::new(); leaves.len()];
    let root = subtree(leaves, &mut paths);
    (root, paths)
}

/// The root of `leaves`, appending each sibling on the way up to the paths
/// of the leaves below it (so each path runs from the leaf up).
fn subtree(leaves: &[Hash], paths: &mut [Vec<Hash>]) -> Hash {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let k = split(leaves.len());
    let (left_paths, right_paths) = paths.split_at_mut(k);
    let left = subtree(&leaves[..k], left_paths);
    let right = subtree(&leaves[k..], right_paths);
    for path in left_paths.iter_mut() {
        path.push(right);
    }
    for path in right_paths.iter_mut() {
        path.push(left);
    }
    node_hash(&left, &right)
}

/// The root that `leaf` at `index` of a tree of `size` leaves leads to along
/// `path`, or `None` when the path cannot belong to such a tree (an index
/// outside it, or a path of the wrong length). RFC 9162 §2.1.3.2.
pub fn root_from_path(leaf: Hash, index: u64, size: u64, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162's MTH, written out recursively, as the reference.
    fn reference_root(leaves: &[Hash]) -> Hash {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = split(leaves.len());
        node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_le_bytes()))
            .collect()
    }

    #[test]
    fn every_path_of_every_size_leads_to_the_root() {
        for n in 1..=70 {
            let leaves = leaves(n);
            let (root, paths) = root_and_paths(&leaves);
            assert_eq!(root, reference_root(&leaves), "size {n}");
            for (i, path) in paths.iter().enumerate() {
                assert_eq!(
                    root_from_path(leaves[i], i as u64, n as u64, path),
                    Some(root),
                    "size {n}, leaf {i}"
                );
            }
        }
    }

    #[test]
    fn a_path_does_not_fit_another_leaf_index_or_size() {
        for n in [2usize, 3, 5, 8, 13, 64] {
            let leaves = leaves(n);
            let (root, paths) = root_and_paths(&leaves);
            for (i, path) in paths.iter().enumerate() {
                let (i64_, n64) = (i as u64, n as u64);
                // Another leaf on this leaf's path.
                let other = leaves[(i + 1) % n];
                assert_ne!(root_from_path(other, i64_, n64, path), Some(root));
                // Another index.
                for j in (0..n64).filter(|&j| j != i64_) {
                    assert_ne!(root_from_path(leaves[i], j, n64, path), Some(root));
                }
                // An index outside the tree.
                assert_eq!(root_from_path(leaves[i], n64, n64, path), None);
                // A path one hash too long or too short.
                let mut longer = path.clone();
                longer.push(root);
                assert_ne!(root_from_path(leaves[i], i64_, n64, &longer), Some(root));
                if !path.is_empty() {
                    let shorter = &path[..path.len() - 1];
                    assert_ne!(root_from_path(leaves[i], i64_, n64, shorter), Some(root));
                    // Any one sibling changed.
                    for s in 0..path.len() {
                        let mut changed = path.clone();
                        changed[s][0] ^= 1;
                        assert_ne!(root_from_path(leaves[i], i64_, n64, &changed), Some(root));
                    }
                }
            }
        }
    }

    #[test]
    fn an_interior_node_is_not_a_leaf() {
        // The left half of a 4-leaf tree, presented as a leaf of a 2-leaf tree
        // whose other leaf is the right half: the node prefix makes the root differ.
        let leaves = leaves(4);
        let (root, _) = root_and_paths(&leaves);
        let left = node_hash(&leaves[0], &leaves[1]);
        let right = node_hash(&leaves[2], &leaves[3]);
        assert_eq!(root_from_path(left, 0, 2, &[right]), Some(root));
        // ...which is only reachable from the node's hash, never from leaf bytes:
        let mut as_leaf_bytes = leaves[0].to_vec();
        as_leaf_bytes.extend_from_slice(&leaves[1]);
        assert_ne!(leaf_hash(&as_leaf_bytes), left);
    }
}
