//! What the CLIPBOARD's targets carry, without a connection: which offered target is read,
//! how content is written for each target and read back (UTF-8, Latin-1 `STRING`,
//! `text/uri-list`, PNG), and the X server's wrapping millisecond clock.

use super::ClipboardTransferError;
use crate::clipboard::ClipboardContent;

/// A data target this clipboard reads or serves (`TARGETS`, `TIMESTAMP` and `MULTIPLE` are
/// answered apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// `image/png`.
    Png,
    /// `text/uri-list`.
    UriList,
    /// `UTF8_STRING`.
    Utf8String,
    /// `text/plain;charset=utf-8`.
    TextPlainUtf8,
    /// `STRING`: Latin-1.
    Latin1String,
    /// `TEXT`: the owner picks the encoding; served as `UTF8_STRING`, never asked for.
    Text,
}

/// The targets read, best first.
const READ_PREFERENCE: [Target; 5] =
    [Target::Png, Target::UriList, Target::Utf8String, Target::TextPlainUtf8, Target::Latin1String];

/// What is asked for, in order, when the owner does not answer `TARGETS` (old clients).
pub(super) const WITHOUT_TARGETS: [Target; 2] = [Target::Utf8String, Target::Latin1String];

/// The offered targets worth reading, best first: `image/png`, `text/uri-list`, then text as
/// `UTF8_STRING`, `text/plain;charset=utf-8` and Latin-1 `STRING`. Each is tried in turn
/// until the owner converts one.
pub(super) fn read_order(offered: &[Target]) -> Vec<Target> {
    READ_PREFERENCE.iter().copied().filter(|t| offered.contains(t)).collect()
}

/// The targets `content` is served as.
pub(super) fn served_targets(content: &ClipboardContent) -> &'static [Target] {
    match content {
        ClipboardContent::Text(_) => &[Target::Utf8String, Target::Latin1String, Target::Text, Target::TextPlainUtf8],
        ClipboardContent::Png(_) => &[Target::Png],
        ClipboardContent::Files(_) => &[Target::UriList],
    }
}

/// The bytes of `content` as its main target carries them: text as UTF-8, the PNG file,
/// files as a `text/uri-list`.
pub(super) fn encode(content: ClipboardContent) -> Vec<u8> {
    match content {
        ClipboardContent::Text(t) => t.into_bytes(),
        ClipboardContent::Png(p) => p,
        ClipboardContent::Files(uris) => uri_list(&uris),
    }
}

/// A `text/uri-list` (RFC 2483): one URI a line, each ended by CR LF.
pub(super) fn uri_list(uris: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(uris.iter().map(|u| u.len() + 2).sum());
    for uri in uris {
        out.extend_from_slice(uri.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The URIs of a `text/uri-list`: lines ended by LF or CR LF, without `#` comments and empty
/// lines; surrounding white space and NULs (some clients end the list with one) are dropped.
pub(super) fn parse_uri_list(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split('\n')
        .map(|line| line.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0'))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// `text` as Latin-1 (`STRING`); characters beyond U+00FF become `?`.
pub(super) fn to_latin1(text: &str) -> Vec<u8> {
    text.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).collect()
}

/// Latin-1 bytes as text: each byte is the code point of the same number.
pub(super) fn from_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The PNG file signature.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// What a property of `format` read for `target` holds.
///
/// # Errors
/// [`ClipboardTransferError::Malformed`] when the property is not made of bytes or an
/// `image/png` is not a PNG file.
pub(super) fn decode(target: Target, format: u8, bytes: Vec<u8>) -> Result<ClipboardContent, ClipboardTransferError> {
    if format != 8 {
        return Err(ClipboardTransferError::Malformed(format!("{target:?} in {format}-bit units")));
    }
    Ok(match target {
        Target::Png if bytes.starts_with(&PNG_SIGNATURE) => ClipboardContent::Png(bytes),
        Target::Png => return Err(ClipboardTransferError::Malformed("image/png without a PNG signature".into())),
        Target::UriList => ClipboardContent::Files(parse_uri_list(&bytes)),
        Target::Utf8String | Target::TextPlainUtf8 | Target::Text => ClipboardContent::Text(
            String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        ),
        Target::Latin1String => ClipboardContent::Text(from_latin1(&bytes)),
    })
}

/// X's `CurrentTime`.
pub(super) const CURRENT_TIME: u32 = 0;

/// Whether server time `t` is at or after `since` on the 32-bit millisecond clock, which
/// wraps every 49.7 days (ICCCM: times are compared as if in a window of half that).
pub(super) fn at_or_after(t: u32, since: u32) -> bool {
    t.wrapping_sub(since) < 1 << 31
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_offered_target_is_read_first() {
        use Target::*;
        assert_eq!(read_order(&[Latin1String, Utf8String, Png]), [Png, Utf8String, Latin1String]);
        assert_eq!(read_order(&[TextPlainUtf8, UriList, Text]), [UriList, TextPlainUtf8]);
        assert_eq!(read_order(&[Latin1String]), [Latin1String]);
        assert!(read_order(&[Text]).is_empty(), "TEXT alone: the encoding is unknown");
        assert!(read_order(&[]).is_empty());
    }

    #[test]
    fn each_content_is_served_as_its_targets() {
        let text = ClipboardContent::Text("x".into());
        assert!(served_targets(&text).contains(&Target::Latin1String));
        assert!(!served_targets(&text).contains(&Target::Png));
        assert_eq!(served_targets(&ClipboardContent::Png(vec![])), [Target::Png]);
        assert_eq!(served_targets(&ClipboardContent::Files(vec![])), [Target::UriList]);
    }

    #[test]
    fn uri_lists_skip_comments_and_blank_lines() {
        let list = b"# copied by a file manager\r\nfile:///tmp/a.txt\r\n\r\n  file:///tmp/b%20c.png \nhttp://x/y\0";
        assert_eq!(parse_uri_list(list), ["file:///tmp/a.txt", "file:///tmp/b%20c.png", "http://x/y"]);
        assert!(parse_uri_list(b"").is_empty());
        assert!(parse_uri_list(b"#only a comment\n\n").is_empty());
        let uris = vec!["file:///a".to_owned(), "file:///b".to_owned()];
        assert_eq!(uri_list(&uris), b"file:///a\r\nfile:///b\r\n");
        assert_eq!(uri_list(&uris).len(), ClipboardContent::Files(uris.clone()).len());
        assert_eq!(parse_uri_list(&uri_list(&uris)), uris);
    }

    #[test]
    fn latin1_both_ways() {
        assert_eq!(to_latin1("café ÿ"), b"caf\xe9 \xff");
        assert_eq!(to_latin1("€ and 日本"), b"? and ??");
        assert_eq!(from_latin1(b"caf\xe9 \xff\x80"), "café ÿ\u{80}");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(to_latin1(&from_latin1(&all)), all);
    }

    #[test]
    fn decode_checks_units_and_png_signature() {
        let png = [&PNG_SIGNATURE[..], b"rest"].concat();
        assert_eq!(decode(Target::Png, 8, png.clone()).unwrap(), ClipboardContent::Png(png.clone()));
        assert!(matches!(decode(Target::Png, 8, b"GIF89a".to_vec()), Err(ClipboardTransferError::Malformed(_))));
        assert!(matches!(decode(Target::Utf8String, 32, vec![0; 4]), Err(ClipboardTransferError::Malformed(_))));
        assert_eq!(decode(Target::Utf8String, 8, "é".into()).unwrap(), ClipboardContent::Text("é".into()));
        assert_eq!(
            decode(Target::TextPlainUtf8, 8, b"a\xffb".to_vec()).unwrap(),
            ClipboardContent::Text("a\u{fffd}b".into())
        );
        assert_eq!(decode(Target::Latin1String, 8, b"\xe9".to_vec()).unwrap(), ClipboardContent::Text("é".into()));
        assert_eq!(
            decode(Target::UriList, 8, b"file:///x\r\n".to_vec()).unwrap(),
            ClipboardContent::Files(vec!["file:///x".into()])
        );
    }

    #[test]
    fn encode_gives_each_content_its_bytes() {
        assert_eq!(encode(ClipboardContent::Text("é".into())), "é".as_bytes());
        assert_eq!(encode(ClipboardContent::Png(vec![1, 2])), [1, 2]);
        assert_eq!(encode(ClipboardContent::Files(vec!["file:///x".into()])), b"file:///x\r\n");
    }

    #[test]
    fn server_time_wraps() {
        assert!(at_or_after(10, 10));
        assert!(at_or_after(11, 10));
        assert!(!at_or_after(9, 10));
        assert!(at_or_after(5, u32::MAX - 5), "after the wrap");
        assert!(!at_or_after(u32::MAX - 5, 5), "before the wrap");
    }
}
