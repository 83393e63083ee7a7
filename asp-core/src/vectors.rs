//! Reads the hex test vectors out of docs/PROTOCOL.md, for the tests of every crate that
//! checks its wire format against the document.

use std::collections::BTreeMap;

/// Every "```vector NAME" block of `doc`: its name and bytes (hex, comments after '#' removed).
///
/// # Panics
/// On a vector named twice or a word that is not hex: the document is wrong.
#[must_use]
pub fn from_document(doc: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Vec<u8>)> = None;
    for line in doc.lines() {
        if let Some(name) = line.strip_prefix("```vector ") {
            current = Some((name.trim().to_owned(), Vec::new()));
        } else if line.starts_with("```") {
            if let Some((name, bytes)) = current.take() {
                assert!(out.insert(name.clone(), bytes).is_none(), "vector {name} appears twice");
            }
        } else if let Some((_, bytes)) = current.as_mut() {
            for byte in line.split('#').next().unwrap_or("").split_whitespace() {
                bytes.push(u8::from_str_radix(byte, 16).unwrap_or_else(|_| panic!("bad hex {byte:?} in {line:?}")));
            }
        }
    }
    out
}
