//! Interned strings: each distinct name is stored once and events carry a
//! 4-byte id, so a trace with millions of kernels holds each kernel name once.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

/// Index of a string in [`Names`].
pub type NameId = u32;

/// A deduplicating string table. Id 0 is always the empty string.
#[derive(Debug)]
pub struct Names {
    strings: Vec<Box<str>>,
    index: HashTable<NameId>,
    hasher: RandomState,
}

impl Default for Names {
    fn default() -> Self {
        let mut names = Names {
            strings: Vec::new(),
            index: HashTable::new(),
            hasher: RandomState::new(),
        };
        names.intern("");
        names
    }
}

impl Names {
    /// The id of `s`, adding it if it is new.
    pub fn intern(&mut self, s: &str) -> NameId {
        let hash = self.hasher.hash_one(s);
        let strings = &self.strings;
        if let Some(&id) = self.index.find(hash, |&id| &*strings[id as usize] == s) {
            return id;
        }
        let id = NameId::try_from(self.strings.len()).expect("more than 4G distinct names");
        self.strings.push(s.into());
        let (strings, hasher) = (&self.strings, &self.hasher);
        self.index
            .insert_unique(hash, id, |&i| hasher.hash_one(&*strings[i as usize]));
        id
    }

    /// The id of `s` if it is present.
    pub fn lookup(&self, s: &str) -> Option<NameId> {
        let hash = self.hasher.hash_one(s);
        self.index
            .find(hash, |&id| &*self.strings[id as usize] == s)
            .copied()
    }

    /// The string for `id`; unknown ids read as the empty string.
    pub fn get(&self, id: NameId) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.len() <= 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_deduplicates() {
        let mut n = Names::default();
        let a = n.intern("iter");
        let b = n.intern("infer");
        assert_ne!(a, b);
        assert_eq!(n.intern("iter"), a);
        assert_eq!(n.get(a), "iter");
        assert_eq!(n.lookup("infer"), Some(b));
        assert_eq!(n.lookup("missing"), None);
        assert_eq!(n.get(9999), "");
        assert_eq!(n.intern(""), 0);
    }
}
