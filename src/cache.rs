//! Analysed traces kept between runs, so that a second analysis of an
//! unchanged trace (a diff against a fixed baseline, a CI rerun, a job
//! folder that gained one file) reads its result instead of the trace.
//!
//! Keyed like the `.nsys-rep` export cache: an entry lives at
//! `<cache>/analysis/<kind>-<stem>-<P>-<K>.json`, where `P` is a hash of
//! the trace's absolute path and `K` of everything the result depends on:
//! the trace's size, mtime, ctime and inode and a hash of its first and
//! last 64 KiB (SQLite bumps a change counter in its first page on every
//! write); the path as given (reports name it); this executable's own
//! identity (a rebuild is another analysis); and the options that change
//! results, with the state of the files they name (`--ncu`,
//! `--gpu-peaks`). The entry repeats its full key, which a read compares,
//! so a hash collision is a miss. `<cache>` is the export cache's folder
//! ([`cache_dir`]). Entries are written to a temporary name and renamed
//! into place, so an interrupted write leaves no entry; an unreadable or
//! truncated entry is a miss, never an error, and so is a cache folder
//! that cannot be written. Nothing is written beside the trace. A new entry
//! replaces older ones of the same kind and path, and the cache keeps at
//! most [`MAX_ENTRIES`] entries and [`MAX_BYTES`], dropping the least
//! recently used.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::file_state::{cache_dir, fnv1a, state_bytes};
use crate::pipeline::AnalysisOptions;

/// Bytes hashed at each end of a trace.
const SAMPLE: u64 = 64 * 1024;
/// Most entries kept, and most bytes: past either, the least recently used
/// go (a hit counts as a use).
const MAX_ENTRIES: usize = 500;
const MAX_BYTES: u64 = 2 << 30;

/// What the cache keeps of one analysed trace (the main command's and a
/// diff side's result).
#[derive(Serialize, serde::Deserialize)]
pub struct Analysed {
    pub report: crate::document::Report,
    /// Processes with GPU work (more than one is a job of ranks too), when
    /// counted.
    pub gpu_processes: Option<usize>,
    /// Their timelines, when they were computed (reports in a folder).
    pub ranks: Option<Vec<crate::analysis::job::RankTimeline>>,
}

impl Analysed {
    pub const KIND: &str = "report";

    /// The report of the trace at `path`: the cached one, else analysed
    /// (the trace dropped before it returns) and stored for the next run.
    /// The main command's entry serves alike (processes with GPU work are
    /// counted; rank timelines are not computed here).
    pub fn report(
        cache: &Cache,
        path: &Path,
        read: &crate::input::Options,
        opts: &AnalysisOptions,
        progress: &crate::progress::Progress,
    ) -> crate::error::Result<crate::document::Report> {
        let key = cache.analysis_key(Self::KIND, path, read, opts);
        if let Some(a) = key.as_ref().and_then(|k| cache.get::<Analysed>(k)) {
            return Ok(a.report);
        }
        let trace = crate::timing::time("load", || crate::input::load(path, read, progress))?;
        progress.finish();
        let report = crate::pipeline::analyze(&trace, opts)?;
        let gpu_processes = Some(crate::analysis::job::ranks::gpu_processes(&trace).len());
        drop(trace);
        let a = Analysed {
            report,
            gpu_processes,
            ranks: None,
        };
        if let Some(k) = &key {
            cache.put(k, &a);
        }
        Ok(a.report)
    }

    /// Whether it holds what a run that writes a folder shows: the rank
    /// timelines of a capture of several processes.
    pub fn complete(&self) -> bool {
        self.ranks.is_some() || self.gpu_processes.is_some_and(|n| n <= 1)
    }
}

/// The analysis cache of one run: off (`--no-cache`) or a folder.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
}

/// Where one result lives and what it must have been computed from.
#[derive(Debug, Clone)]
pub struct Key {
    file: PathBuf,
    text: String,
}

#[derive(Serialize)]
struct EntryOut<'a, T> {
    key: &'a str,
    value: &'a T,
}

#[derive(serde::Deserialize)]
struct EntryIn<T> {
    key: String,
    value: T,
}

impl Cache {
    /// The cache in its usual folder, or off.
    pub fn new(enabled: bool) -> Cache {
        Cache {
            dir: if enabled {
                cache_dir().ok().map(|d| d.join("analysis"))
            } else {
                None
            },
        }
    }

    /// No cache: every lookup misses, nothing is written.
    pub fn off() -> Cache {
        Cache { dir: None }
    }

    /// The cache in `dir` (tests).
    pub fn at(dir: &Path) -> Cache {
        Cache {
            dir: Some(dir.to_path_buf()),
        }
    }

    /// The key of the result `kind` of `input` under `options` (a stable
    /// text of every option that changes the result) and the files those
    /// options name. `None` when the cache is off or `input` cannot be
    /// identified (it is then read as usual, and fails there if it must).
    pub fn key(&self, kind: &str, input: &Path, options: &str, option_files: &[&Path]) -> Option<Key> {
        let dir = self.dir.as_ref()?;
        let abs = fs::canonicalize(input).ok()?;
        let mut text = format!(
            "{kind}\n{}\n{}\n{}\ninput {} {}\n",
            crate::pipeline::generator(),
            identity(&std::env::current_exe().ok()?)?,
            options,
            input.display(),
            identity(&abs)?,
        );
        for f in option_files {
            // A named file that cannot be read fails the analysis: no key.
            text.push_str(&format!("file {} {}\n", f.display(), identity(f)?));
        }
        let name = format!(
            "{kind}-{}-{:016x}-{:016x}.json",
            crate::text::report_name(input),
            fnv1a(abs.as_os_str().as_encoded_bytes()),
            fnv1a(text.as_bytes())
        );
        Some(Key {
            file: dir.join(name),
            text,
        })
    }

    /// The key of the result `kind` of analysing `input` read with `read`
    /// under `opts` (the flags that change results, and the files they name).
    pub fn analysis_key(
        &self,
        kind: &str,
        input: &Path,
        read: &crate::input::Options,
        opts: &AnalysisOptions,
    ) -> Option<Key> {
        // nsys only exports a .nsys-rep, which is keyed by its own state.
        let options = format!("format {:?}\n{opts:?}", read.format);
        let files: Vec<&Path> = [&opts.ncu, &opts.gpu_peaks]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .collect();
        self.key(kind, input, &options, &files)
    }

    /// The result stored under `key`, if any and whole.
    pub fn get<T: DeserializeOwned>(&self, key: &Key) -> Option<T> {
        self.dir.as_ref()?;
        let bytes = fs::read(&key.file).ok()?;
        match serde_json::from_slice::<EntryIn<T>>(&bytes) {
            Ok(e) if e.key == key.text => {
                // Recently used: the last to be evicted.
                if let Ok(f) = fs::File::options().append(true).open(&key.file) {
                    let _ = f.set_modified(std::time::SystemTime::now());
                }
                Some(e.value)
            }
            // Another key with the same hash: leave it.
            Ok(_) => None,
            // Damaged (a disk filled up mid-write by another program, say).
            Err(_) => {
                let _ = fs::remove_file(&key.file);
                None
            }
        }
    }

    /// Store `value` under `key`; a cache that cannot be written is skipped.
    pub fn put<T: Serialize>(&self, key: &Key, value: &T) {
        if self.dir.is_none() {
            return;
        }
        if write_entry(key, value).is_ok() {
            remove_stale(&key.file);
            evict(&key.file, MAX_ENTRIES, MAX_BYTES);
        }
    }
}

/// The entry, through a temporary file renamed into place.
fn write_entry<T: Serialize>(key: &Key, value: &T) -> std::io::Result<()> {
    let dir = key.file.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = key.file.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::io::BufWriter::new(fs::File::create(&tmp)?);
        serde_json::to_writer(
            &mut f,
            &EntryOut {
                key: &key.text,
                value,
            },
        )?;
        f.flush()?;
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        fs::rename(&tmp, &key.file)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Remove older entries of the same kind and path (same name up to the
/// last `-`).
fn remove_stale(file: &Path) {
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return;
    };
    let name = name.to_string_lossy();
    let Some(cut) = name.rfind('-') else { return };
    let prefix = &name[..=cut];
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.filter_map(|e| e.ok()) {
        let n = e.file_name();
        let n = n.to_string_lossy();
        if n != name && n.starts_with(prefix) && n.ends_with(".json") && n.len() == name.len() {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Remove the least recently used entries beside `kept` until at most
/// `max_entries` entries of at most `max_bytes` in all remain.
fn evict(kept: &Path, max_entries: usize, max_bytes: u64) {
    let Some(dir) = kept.parent() else { return };
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut all: Vec<(std::time::SystemTime, u64, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    let mut bytes: u64 = all.iter().map(|e| e.1).sum();
    let mut count = all.len();
    all.sort();
    for (_, len, path) in all {
        if count <= max_entries && bytes <= max_bytes {
            break;
        }
        if path != kept && fs::remove_file(&path).is_ok() {
            count -= 1;
            bytes = bytes.saturating_sub(len);
        }
    }
}

/// One version of a file: its state and a hash of its first and last
/// [`SAMPLE`] bytes, as text.
fn identity(path: &Path) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    let mut f = fs::File::open(path).ok()?;
    let mut sample = Vec::with_capacity(2 * SAMPLE as usize);
    Read::by_ref(&mut f).take(SAMPLE).read_to_end(&mut sample).ok()?;
    let len = meta.len();
    if len > SAMPLE {
        f.seek(SeekFrom::Start(len.saturating_sub(SAMPLE).max(SAMPLE)))
            .ok()?;
        f.take(SAMPLE).read_to_end(&mut sample).ok()?;
    }
    Some(format!(
        "{:016x}-{:016x}",
        fnv1a(&state_bytes(&meta)),
        fnv1a(&sample)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("trace-report-cache-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn hit_miss_and_damage() {
        let d = scratch("unit");
        let input = d.join("t.bin");
        fs::write(&input, b"one").unwrap();
        let cache = Cache::at(&d.join("c"));
        let k = cache.key("report", &input, "opts", &[]).unwrap();
        assert_eq!(cache.get::<Vec<u32>>(&k), None);
        cache.put(&k, &vec![1u32, 2]);
        assert_eq!(cache.get::<Vec<u32>>(&k), Some(vec![1, 2]));
        // Other options: another key.
        let k2 = cache.key("report", &input, "other", &[]).unwrap();
        assert_eq!(cache.get::<Vec<u32>>(&k2), None);
        // The same size, rewritten: the content sample differs.
        fs::write(&input, b"two").unwrap();
        let k3 = cache.key("report", &input, "opts", &[]).unwrap();
        assert_ne!(k3.text, k.text);
        assert_eq!(cache.get::<Vec<u32>>(&k3), None);
        // A truncated entry is a miss and is removed.
        cache.put(&k3, &vec![3u32]);
        let bytes = fs::read(&k3.file).unwrap();
        fs::write(&k3.file, &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(cache.get::<Vec<u32>>(&k3), None);
        assert!(!k3.file.exists());
        // Off: no key.
        assert!(Cache::off().key("report", &input, "opts", &[]).is_none());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_new_entry_replaces_the_old_one() {
        let d = scratch("stale");
        let input = d.join("t.bin");
        fs::write(&input, b"one").unwrap();
        let cache = Cache::at(&d.join("c"));
        let k = cache.key("report", &input, "a", &[]).unwrap();
        cache.put(&k, &1u32);
        let k2 = cache.key("report", &input, "b", &[]).unwrap();
        cache.put(&k2, &2u32);
        assert!(!k.file.exists());
        assert_eq!(cache.get::<u32>(&k2), Some(2));
        // Another kind of the same trace stays.
        let k3 = cache.key("ranks", &input, "a", &[]).unwrap();
        cache.put(&k3, &3u32);
        assert!(k2.file.exists() && k3.file.exists());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn the_least_recently_used_go_first() {
        let d = scratch("evict");
        let input = d.join("t.bin");
        fs::write(&input, b"one").unwrap();
        let cache = Cache::at(&d.join("c"));
        let mut keys = Vec::new();
        for kind in ["a", "b", "c"] {
            let k = cache.key(kind, &input, "o", &[]).unwrap();
            cache.put(&k, &1u32);
            keys.push(k);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // `a` used again: `b` is now the least recently used.
        assert_eq!(cache.get::<u32>(&keys[0]), Some(1));
        evict(&keys[2].file, 2, u64::MAX);
        assert!(keys[0].file.exists() && !keys[1].file.exists() && keys[2].file.exists());
        // By size: only the newest entry stays.
        evict(&keys[2].file, 10, 1);
        assert!(!keys[0].file.exists() && keys[2].file.exists());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn an_unwritable_folder_is_skipped() {
        let d = scratch("nowrite");
        let input = d.join("t.bin");
        fs::write(&input, b"one").unwrap();
        // A file where the folder should be: nothing can be created in it.
        fs::write(d.join("c"), b"").unwrap();
        let cache = Cache::at(&d.join("c").join("x"));
        let k = cache.key("report", &input, "a", &[]).unwrap();
        cache.put(&k, &1u32);
        assert_eq!(cache.get::<u32>(&k), None);
        let _ = fs::remove_dir_all(&d);
    }
}
