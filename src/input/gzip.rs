//! Transparent gzip. Profiler JSON is usually shipped compressed
//! (`trace.json.gz`); detection and reading see the decompressed bytes, and
//! a file that starts with the gzip magic but does not decompress is a
//! clear error rather than "unknown format".
//!
//! Large inputs are read (and inflated) on a second thread, so that reading
//! and parsing run on two cores.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result, io_problem};

/// The two bytes every gzip member starts with.
pub const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Inputs at least this large are read (and inflated) on a second thread.
const THREAD_ABOVE: u64 = 4 << 20;
/// Size of the blocks passed between the threads.
const BLOCK: usize = 1 << 20;

pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&MAGIC)
}

/// A one-line description of an error met while decompressing.
pub fn problem(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "the gzip data is truncated".into(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            format!("not valid gzip data ({e})")
        }
        _ => io_problem(e),
    }
}

/// The first `limit` decompressed bytes of a gzip file whose raw start is
/// `raw` (enough to recognise the format inside).
pub fn head(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| Error::input(path, io_problem(&e)))?;
    let mut out = Vec::with_capacity(limit);
    MultiGzDecoder::new(BufReader::new(file))
        .take(limit as u64)
        .read_to_end(&mut out)
        .map_err(|e| {
            // A short file that is cut inside the first block is still "truncated".
            Error::input(path, problem(&e))
        })?;
    if out.is_empty() {
        return Err(Error::input(path, "the gzip data decompresses to nothing"));
    }
    Ok(out)
}

/// An input opened for reading, decompressed when it is gzip.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub gzip: bool,
    /// Size of the file on disk (compressed size for gzip).
    pub file_size: u64,
}

/// Open `path` for a sequential read of its (decompressed) content.
pub fn open(path: &Path) -> Result<Opened> {
    let mut file = File::open(path).map_err(|e| Error::input(path, io_problem(&e)))?;
    let file_size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| Error::input(path, io_problem(&e)))?;
    let gzip = n == 2 && magic == MAGIC;
    let rest = io::Cursor::new(magic[..n].to_vec()).chain(file);
    let big = file_size >= THREAD_ABOVE;
    let reader: Box<dyn Read + Send> = match (gzip, big) {
        (false, false) => Box::new(rest),
        (false, true) => Box::new(Prefetch::spawn(rest)),
        (true, false) => Box::new(MultiGzDecoder::new(BufReader::new(rest))),
        (true, true) => Box::new(Prefetch::spawn(MultiGzDecoder::new(BufReader::with_capacity(
            BLOCK, rest,
        )))),
    };
    Ok(Opened {
        reader,
        gzip,
        file_size,
    })
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reading (and decompression) on its own thread: blocks come through a
/// bounded channel (two in flight), used blocks go back for reuse.
struct Prefetch {
    blocks: Receiver<io::Result<Vec<u8>>>,
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
}

impl Prefetch {
    fn spawn<R: Read + Send + 'static>(mut src: R) -> Prefetch {
        let (tx, blocks) = sync_channel::<io::Result<Vec<u8>>>(2);
        let (spare, spares) = sync_channel::<Vec<u8>>(4);
        std::thread::spawn(move || {
            loop {
                let mut block = spares.try_recv().unwrap_or_else(|_| Vec::with_capacity(BLOCK));
                block.clear();
                block.resize(BLOCK, 0);
                let mut n = 0;
                let result = loop {
                    if n == BLOCK {
                        break Ok(());
                    }
                    match src.read(&mut block[n..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => n += k,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                block.truncate(n);
                let last = n == 0;
                let sent = match result {
                    Ok(()) => tx.send(Ok(block)),
                    Err(e) => {
                        let _ = tx.send(Ok(block));
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                // The reader has gone (it stopped early) or the input ended.
                if sent.is_err() || last {
                    return;
                }
            }
        });
        Prefetch {
            blocks,
            spare,
            current: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    let used = std::mem::replace(&mut self.current, block);
                    let _ = self.spare.try_send(used);
                    self.at = 0;
                    if self.current.is_empty() {
                        self.done = true;
                    }
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn threaded_inflate_matches() {
        let data: Vec<u8> = (0..5 * BLOCK + 123).map(|i| (i % 251) as u8).collect();
        let z = gz(&data);
        let mut r = Prefetch::spawn(MultiGzDecoder::new(io::Cursor::new(z.clone())));
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        // Truncated input: an error, after the data that could be inflated.
        let cut = &z[..z.len() / 2];
        let mut r = Prefetch::spawn(MultiGzDecoder::new(io::Cursor::new(cut.to_vec())));
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(problem(&e), "the gzip data is truncated");
    }
}
