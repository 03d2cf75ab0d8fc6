//! Streaming over large JSON inputs without a DOM.
//!
//! A trace of several GB cannot be held as text plus a parsed tree. This
//! reads through a growable buffer (1 MiB, larger only while one value is
//! larger) and hands out one complete value or line at a time as a borrowed
//! slice; the caller deserializes that slice into a compact struct (serde
//! from a slice borrows strings instead of allocating them) and lets it go
//! before asking for the next. Finding where a value ends is a byte scan
//! that skips string bodies with `memchr` and resumes where it stopped when
//! the buffer is refilled, so every byte is scanned once.

use std::io::{self, Read};

use memchr::{memchr, memchr2};

/// Read size and initial buffer size.
const CHUNK: usize = 1 << 20;

/// A problem in the stream; `Display` is a one-line description.
#[derive(Debug)]
pub enum StreamError {
    Io(io::Error),
    /// The input ends inside a value or before the document is complete.
    Truncated {
        offset: u64,
    },
    /// Unexpected content.
    Syntax {
        offset: u64,
        expected: &'static str,
    },
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::Io(e) => write!(f, "read error: {}", crate::error::io_problem(e)),
            StreamError::Truncated { offset } => {
                write!(
                    f,
                    "the JSON is truncated (it ends at byte {offset} inside a value)"
                )
            }
            StreamError::Syntax { offset, expected } => {
                write!(f, "malformed JSON at byte {offset}: expected {expected}")
            }
        }
    }
}

impl From<io::Error> for StreamError {
    fn from(e: io::Error) -> Self {
        StreamError::Io(e)
    }
}

pub type StreamResult<T> = Result<T, StreamError>;

/// Why [`JsonStream::try_value`] failed.
#[derive(Debug)]
pub enum ValueError {
    Stream(StreamError),
    /// The value is not valid JSON or not of the expected shape.
    Json(serde_json::Error),
}

/// Where the end of a value is, resumable across refills.
#[derive(Default)]
struct Scan {
    /// Bytes of the value already scanned (relative to its start).
    done: usize,
    depth: u32,
    in_str: bool,
    escaped: bool,
    scalar: bool,
}

impl Scan {
    /// Scan `buf` (the unscanned rest of the value's bytes); the value's
    /// length when its end is in `buf`.
    fn advance(&mut self, buf: &[u8]) -> Option<usize> {
        let base = self.done;
        if self.scalar {
            let end = buf
                .iter()
                .position(|&b| matches!(b, b',' | b'}' | b']' | b':' | b' ' | b'\n' | b'\r' | b'\t'));
            self.done += end.unwrap_or(buf.len());
            return end.map(|e| base + e);
        }
        let mut i = 0;
        let n = buf.len();
        while i < n {
            if self.escaped {
                self.escaped = false;
                i += 1;
                continue;
            }
            if self.in_str {
                match memchr2(b'"', b'\\', &buf[i..]) {
                    None => break,
                    Some(j) => {
                        i += j;
                        if buf[i] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_str = false;
                            if self.depth == 0 {
                                return Some(base + i + 1);
                            }
                        }
                        i += 1;
                        continue;
                    }
                }
            }
            match buf[i] {
                b'"' => self.in_str = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(base + i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.done += n;
        None
    }
}

/// A JSON (or JSON-lines) stream over any reader.
pub struct JsonStream<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    /// Stream offset of `buf[0]`.
    base: u64,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

impl<R: Read> JsonStream<R> {
    pub fn new(src: R) -> Self {
        JsonStream {
            src,
            buf: vec![0; CHUNK],
            pos: 0,
            end: 0,
            eof: false,
            base: 0,
        }
    }

    /// Offset of the next unread byte in the (decompressed) stream.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Read more bytes, keeping `buf[pos..end]`; false at the end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            // One value larger than the buffer: grow it.
            let len = self.buf.len() * 2;
            self.buf.resize(len, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The next byte that is not whitespace, without consuming it; None at
    /// the end of input.
    pub fn peek(&mut self) -> StreamResult<Option<u8>> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if !is_ws(b) {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Consume the byte `peek` returned.
    pub fn bump(&mut self) {
        self.pos += 1;
    }

    /// Consume `b` (after whitespace) or fail with `expected`.
    pub fn expect(&mut self, b: u8, expected: &'static str) -> StreamResult<()> {
        match self.peek()? {
            Some(x) if x == b => {
                self.bump();
                Ok(())
            }
            Some(_) => Err(self.syntax(expected)),
            None => Err(StreamError::Truncated {
                offset: self.offset(),
            }),
        }
    }

    /// A syntax error at the current offset.
    pub fn syntax(&self, expected: &'static str) -> StreamError {
        StreamError::Syntax {
            offset: self.offset(),
            expected,
        }
    }

    /// After an element of an array or member of an object: true when
    /// another follows (a `,` was consumed), false at `close` (consumed).
    pub fn next_or_close(&mut self, close: u8, expected: &'static str) -> StreamResult<bool> {
        match self.peek()? {
            Some(b',') => {
                self.bump();
                Ok(true)
            }
            Some(b) if b == close => {
                self.bump();
                Ok(false)
            }
            Some(_) => Err(self.syntax(expected)),
            None => Err(StreamError::Truncated {
                offset: self.offset(),
            }),
        }
    }

    /// The next complete JSON value (after whitespace), raw. Its end is
    /// found structurally; the caller's parser checks the rest.
    pub fn value(&mut self) -> StreamResult<&[u8]> {
        let first = match self.peek()? {
            Some(b) => b,
            None => {
                return Err(StreamError::Truncated {
                    offset: self.offset(),
                });
            }
        };
        if matches!(first, b',' | b':' | b'}' | b']') {
            return Err(self.syntax("a JSON value"));
        }
        let mut scan = Scan {
            scalar: !matches!(first, b'{' | b'[' | b'"'),
            ..Scan::default()
        };
        loop {
            let from = self.pos + scan.done;
            if let Some(len) = scan.advance(&self.buf[from..self.end]) {
                let start = self.pos;
                self.pos += len;
                return Ok(&self.buf[start..start + len]);
            }
            if !self.fill()? {
                if scan.scalar && scan.done > 0 {
                    let start = self.pos;
                    self.pos = self.end;
                    return Ok(&self.buf[start..self.end]);
                }
                return Err(StreamError::Truncated {
                    offset: self.base + self.end as u64,
                });
            }
        }
    }

    /// Deserialize the next value (after whitespace) straight from the
    /// buffer, in one pass: `Ok(None)` when the buffer ends inside it (call
    /// [`fill_more`](Self::fill_more), then again). The value borrows the
    /// buffer, so it must be dropped before the stream is used again.
    pub fn try_value<'s, T: serde::Deserialize<'s>>(&'s mut self) -> Result<Option<T>, ValueError> {
        let slice = &self.buf[self.pos..self.end];
        let mut it = serde_json::Deserializer::from_slice(slice).into_iter::<T>();
        match it.next() {
            Some(Ok(v)) => {
                self.pos += it.byte_offset();
                Ok(Some(v))
            }
            // The buffer may end inside the value: some truncations read
            // as other errors ("invalid number" for `12.` at the end).
            Some(Err(_)) | None if !self.eof && !self.complete_in_buffer() => Ok(None),
            Some(Err(e)) if e.is_eof() => Err(ValueError::Stream(StreamError::Truncated {
                offset: self.base + self.end as u64,
            })),
            Some(Err(e)) => Err(ValueError::Json(e)),
            None => Err(ValueError::Stream(StreamError::Truncated {
                offset: self.base + self.end as u64,
            })),
        }
    }

    /// Whether the value at `pos` ends inside the buffer.
    fn complete_in_buffer(&self) -> bool {
        let first = self.buf[self.pos..self.end].iter().find(|&&b| !is_ws(b));
        let Some(&first) = first else { return false };
        let mut scan = Scan {
            scalar: !matches!(first, b'{' | b'[' | b'"'),
            ..Scan::default()
        };
        let start = self.pos
            + self.buf[self.pos..self.end]
                .iter()
                .take_while(|&&b| is_ws(b))
                .count();
        // A scalar is complete only when something follows it.
        scan.advance(&self.buf[start..self.end]).is_some()
    }

    /// Read more input after [`try_value`](Self::try_value) found the
    /// buffer too short.
    /// At the end of input nothing changes and the next try reports the
    /// truncation.
    pub fn fill_more(&mut self) -> StreamResult<()> {
        self.fill()?;
        Ok(())
    }

    /// The next line without its line end (`\n` or `\r\n`); None at the end
    /// of input. A last line without a newline is returned too.
    pub fn line(&mut self) -> StreamResult<Option<&[u8]>> {
        let mut done = 0;
        loop {
            if let Some(j) = memchr(b'\n', &self.buf[self.pos + done..self.end]) {
                let start = self.pos;
                let mut stop = start + done + j;
                self.pos = stop + 1;
                if stop > start && self.buf[stop - 1] == b'\r' {
                    stop -= 1;
                }
                return Ok(Some(&self.buf[start..stop]));
            }
            done = self.end - self.pos;
            if !self.fill()? {
                if self.pos == self.end {
                    return Ok(None);
                }
                let start = self.pos;
                self.pos = self.end;
                return Ok(Some(&self.buf[start..self.end]));
            }
        }
    }

    /// Skip what remains after the document: only whitespace may follow.
    pub fn expect_end(&mut self) -> StreamResult<()> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(self.syntax("the end of the document")),
        }
    }
}

/// `raw` with the whitespace between JSON tokens removed (strings kept as
/// they are), e.g. `[[16, 1024], []]` -> `[[16,1024],[]]`, written into
/// `out` (cleared first) so that a hot loop reuses one buffer.
pub fn compact_into(raw: &[u8], out: &mut String) {
    out.clear();
    let mut in_str = false;
    let mut escaped = false;
    let mut bytes = std::mem::take(out).into_bytes();
    for &b in raw {
        if in_str {
            bytes.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if !is_ws(b) {
            in_str = b == b'"';
            bytes.push(b);
        }
    }
    *out = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
}

/// [`compact_into`] into a new string.
pub fn compact(raw: &[u8]) -> String {
    let mut out = String::new();
    compact_into(raw, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most `n` bytes per read, to cross buffer
    /// boundaries everywhere.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(self.0.len()).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn values(text: &str, step: usize) -> Vec<String> {
        let mut s = JsonStream::new(Trickle(text.as_bytes(), step));
        s.expect(b'[', "[").unwrap();
        let mut out = Vec::new();
        loop {
            out.push(String::from_utf8(s.value().unwrap().to_vec()).unwrap());
            if !s.next_or_close(b']', ", or ]").unwrap() {
                break;
            }
        }
        s.expect_end().unwrap();
        out
    }

    #[test]
    fn values_across_any_boundary() {
        let text = r#" [ {"a": "x\"}]\\", "b": [1, {"c": []}]}, "s\\", 12.5e3 ,true,null, [] ] "#;
        let want = vec![
            r#"{"a": "x\"}]\\", "b": [1, {"c": []}]}"#,
            r#""s\\""#,
            "12.5e3",
            "true",
            "null",
            "[]",
        ];
        for step in [1, 2, 3, 5, 7, 64] {
            assert_eq!(values(text, step), want, "step {step}");
        }
    }

    #[test]
    fn truncated_and_malformed() {
        let mut s = JsonStream::new(&b"[{\"a\": [1, 2"[..]);
        s.expect(b'[', "[").unwrap();
        assert!(matches!(s.value(), Err(StreamError::Truncated { .. })));
        let mut s = JsonStream::new(&b"[1 2]"[..]);
        s.expect(b'[', "[").unwrap();
        s.value().unwrap();
        let e = s.next_or_close(b']', "',' or ']'").unwrap_err();
        assert_eq!(e.to_string(), "malformed JSON at byte 3: expected ',' or ']'");
    }

    #[test]
    fn values_deserialized_in_place_across_boundaries() {
        let text = r#"[{"a": "x\"y", "b": [1, 2], "c": 12.5e1}, {"a": "z", "b": [], "c": 1.25}, {"a": "w", "b": [3], "c": 0}]"#;
        #[derive(serde::Deserialize)]
        struct V<'a> {
            #[serde(borrow)]
            a: std::borrow::Cow<'a, str>,
            b: Vec<i32>,
            #[serde(default)]
            c: f64,
        }
        for step in [1, 3, 7, 100] {
            let mut s = JsonStream::new(Trickle(text.as_bytes(), step));
            s.expect(b'[', "[").unwrap();
            let mut got = Vec::new();
            loop {
                match s.try_value::<V>().unwrap() {
                    Some(v) => got.push(format!("{}{:?}{}", v.a, v.b, v.c)),
                    None => {
                        s.fill_more().unwrap();
                        continue;
                    }
                }
                if !s.next_or_close(b']', "]").unwrap() {
                    break;
                }
            }
            assert_eq!(got, ["x\"y[1, 2]125", "z[]1.25", "w[3]0"], "step {step}");
        }
        let mut s = JsonStream::new(&b"[{\"a\": \"x\", \"b\": [1"[..]);
        s.expect(b'[', "[").unwrap();
        loop {
            match s.try_value::<V>() {
                Ok(None) => s.fill_more().unwrap(),
                Err(ValueError::Stream(StreamError::Truncated { .. })) => break,
                other => panic!("{:?}", other.map(|_| ())),
            }
        }
    }

    #[test]
    fn lines() {
        let text = "a\r\nbb\n\nccc";
        for step in [1, 2, 100] {
            let mut s = JsonStream::new(Trickle(text.as_bytes(), step));
            let mut got = Vec::new();
            while let Some(l) = s.line().unwrap() {
                got.push(String::from_utf8(l.to_vec()).unwrap());
            }
            assert_eq!(got, ["a", "bb", "", "ccc"]);
        }
    }

    #[test]
    fn large_value_grows_the_buffer() {
        let big = format!("[\"{}\"]", "x".repeat(3 * CHUNK));
        let v = values(&big, CHUNK / 3);
        assert_eq!(v[0].len(), 3 * CHUNK + 2);
    }

    #[test]
    fn compacting() {
        assert_eq!(compact(b" [[16, 1024],\n [] ] "), "[[16,1024],[]]");
        assert_eq!(
            compact(br#"["unsigned char", "a\" b"]"#),
            r#"["unsigned char","a\" b"]"#
        );
    }
}
