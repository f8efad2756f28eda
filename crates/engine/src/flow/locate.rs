//! Field paths and their positions in the YAML text.
//!
//! yaml_serde has no spanned values, but it stamps the position of the current node on any error
//! raised while deserializing it. So to find a path we walk the document with a seed that follows
//! the path and fails on purpose at the target node; the error's location is the node's.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One segment of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A field path such as `steps[2].input.summary`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    /// This path extended with a key.
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.to_owned()));
        p
    }

    /// This path extended with an index.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(index));
        p
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

const FOUND: &str = "\u{0}found";

/// The 1-based line and column of the node at `path` in `text`, or of the closest ancestor that
/// exists.
pub fn locate(text: &str, path: &FieldPath) -> (usize, usize) {
    let mut best = (1, 1);
    // The path itself, then shorter prefixes when a node is absent (e.g. a missing key).
    for len in (0..=path.0.len()).rev() {
        let seed = Seek(&path.0[..len]);
        let de = yaml_serde::Deserializer::from_str(text);
        if let Err(err) = seed.deserialize(de)
            && err.to_string().contains(FOUND)
            && let Some(loc) = err.location()
        {
            best = (loc.line(), loc.column());
            break;
        }
    }
    best
}

struct Seek<'p>(&'p [Segment]);

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Segment::Key(want), rest)) = self.0.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        while let Some(key) = map.next_key::<yaml_serde::Value>()? {
            if key.as_str() == Some(want.as_str()) {
                return map.next_value_seed(Seek(rest));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Segment::Index(want), rest)) = self.0.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Seek(rest)).map(|_| ())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
}

impl Seek<'_> {
    fn scalar<E: de::Error>(&self) -> Result<(), E> {
        if self.0.is_empty() {
            Err(E::custom(FOUND))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name: x\nsteps:\n  - id: a\n    input:\n      summary: hi\n  - id: b\n";

    #[test]
    fn a_path_is_located_at_its_value() {
        let p = FieldPath::default()
            .key("steps")
            .index(0)
            .key("input")
            .key("summary");
        assert_eq!(p.to_string(), "steps[0].input.summary");
        assert_eq!(locate(DOC, &p), (5, 16));
        let p = FieldPath::default().key("steps").index(1).key("id");
        assert_eq!(locate(DOC, &p), (6, 9));
    }

    #[test]
    fn a_missing_node_is_located_at_its_closest_ancestor() {
        let p = FieldPath::default().key("steps").index(1).key("action");
        assert_eq!(locate(DOC, &p), (6, 5));
    }
}
