//! PyTorch profiler traces (Kineto Chrome-trace JSON, `.json` or `.json.gz`).
//!
//! The file is one JSON object whose `traceEvents` array holds every event
//! (`{"ph": "X", "cat": ..., "name": ..., "pid", "tid", "ts", "dur", "args"}`),
//! with `deviceProperties` (GPU names, compute capability) beside it. It is
//! streamed: each event is deserialized from its own slice into a compact
//! struct and turned into model rows at once (see `json_stream`).
//!
//! What becomes what:
//! - `kernel`, `gpu_memcpy`, `gpu_memset` (on `pid` = device, `tid` =
//!   stream) -> kernels, copies, memsets. Their `pid` in the model is the
//!   host process that launched them (found through the launch's
//!   correlation id), so (pid, correlation) joins work as for nsys.
//! - `cuda_runtime`, `cuda_driver` -> API calls, classified by name.
//! - `user_annotation` (`record_function` ranges) and `ProfilerStep#N` ->
//!   push/pop ranges on their thread; `ProfilerStep` also declares the
//!   iteration (`Trace::iteration_range`). Framework ops (`cpu_op`,
//!   `aten::...`) are not ranges: top-level ops repeat every iteration
//!   and would be mistaken for iterations.
//! - `cpu_op` input shapes (`record_shapes=True`: `Input Dims`, `Input
//!   type`) -> `Trace::operators`, linked to the kernels they launched
//!   through the `External id` that Kineto gives both.
//! - Times: microseconds as decimal text -> integer ns, exactly.

mod build;
pub mod event;
pub mod short_name;

use std::path::Path;

use crate::error::{Error, Result};
use crate::input::gzip;
use crate::input::json_stream::{JsonStream, StreamError, ValueError};
use crate::input::{InputFormat, Reader};
use crate::model::Trace;
use crate::progress::Progress;
use build::Builder;

pub struct Kineto;

impl Reader for Kineto {
    fn format(&self) -> InputFormat {
        InputFormat::Kineto
    }

    fn sniff(&self, _path: &Path, head: &[u8]) -> bool {
        sniff(head)
    }

    fn read(&self, path: &Path, progress: &Progress) -> Result<Trace> {
        let opened = gzip::open(path)?;
        let gz = opened.gzip;
        let mut stream = JsonStream::new(opened.reader);
        let mut builder = Builder::new(path);
        progress.stage("reading trace events", None);
        walk(&mut stream, &mut builder, progress).map_err(|e| match e {
            Failure::Stream(StreamError::Io(io)) if gz => Error::input(path, gzip::problem(&io)),
            Failure::Stream(e) => Error::input(path, format!("not a readable Kineto trace: {e}")),
            Failure::Event(offset, msg) => {
                Error::input(path, format!("malformed trace event at byte {offset}: {msg}"))
            }
            Failure::NoEvents => Error::input(
                path,
                "JSON without a traceEvents array: not a PyTorch profiler trace",
            ),
        })?;
        builder.finish()
    }
}

/// Whether `head` (decompressed) looks like a Chrome trace: an object with
/// a `traceEvents` member, or a bare array of events with `ph` fields.
pub fn sniff(head: &[u8]) -> bool {
    let text = trim_start(head);
    match text.first() {
        Some(b'{') => contains(head, b"\"traceEvents\""),
        Some(b'[') => {
            let rest = trim_start(&text[1..]);
            rest.first() == Some(&b'{') && contains(head, b"\"ph\"") && contains(head, b"\"ts\"")
        }
        _ => false,
    }
}

pub(crate) fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

enum Failure {
    Stream(StreamError),
    Event(u64, String),
    NoEvents,
}

impl From<StreamError> for Failure {
    fn from(e: StreamError) -> Self {
        Failure::Stream(e)
    }
}

/// Events between progress updates.
const PROGRESS_STEP: u64 = 1 << 16;

/// Walk the top-level document: an object (events under `traceEvents`,
/// the rest small metadata) or a bare array of events.
fn walk<R: std::io::Read>(
    s: &mut JsonStream<R>,
    b: &mut Builder,
    progress: &Progress,
) -> Result<(), Failure> {
    match s.peek()? {
        Some(b'[') => {
            events(s, b, progress)?;
            s.expect_end()?;
            return Ok(());
        }
        Some(b'{') => s.bump(),
        Some(_) => return Err(s.syntax("'{' or '[' at the start of the document").into()),
        None => return Err(StreamError::Truncated { offset: 0 }.into()),
    }
    let mut saw_events = false;
    if s.peek()? == Some(b'}') {
        s.bump();
    } else {
        loop {
            let key_at = s.offset();
            let key: String = serde_json::from_slice(s.value()?)
                .map_err(|e| Failure::Event(key_at, format!("bad member name ({e})")))?;
            s.expect(b':', "':' after a member name")?;
            if key == "traceEvents" {
                if s.peek()? != Some(b'[') {
                    return Err(s.syntax("an array of events after \"traceEvents\"").into());
                }
                events(s, b, progress)?;
                saw_events = true;
            } else {
                let at = s.offset();
                let raw = s.value()?;
                b.metadata(&key, raw)
                    .map_err(|e| Failure::Event(at, format!("bad \"{key}\" ({e})")))?;
            }
            if !s.next_or_close(b'}', "',' or '}' between members")? {
                break;
            }
        }
    }
    s.expect_end()?;
    if !saw_events {
        return Err(Failure::NoEvents);
    }
    Ok(())
}

/// The event array, one event at a time.
fn events<R: std::io::Read>(
    s: &mut JsonStream<R>,
    b: &mut Builder,
    progress: &Progress,
) -> Result<(), Failure> {
    s.expect(b'[', "'['")?;
    if s.peek()? == Some(b']') {
        s.bump();
        return Ok(());
    }
    let mut n: u64 = 0;
    loop {
        // The event's first byte, past whitespace (what an error points at).
        let first = s.peek()?;
        let at = s.offset();
        // serde reads an array as a struct's fields in order: only objects are events.
        if first != Some(b'{') {
            let valid = serde_json::from_slice::<serde::de::IgnoredAny>(s.value()?);
            if let Err(e) = valid {
                return Err(Failure::Event(at, e.to_string()));
            }
            b.bad_event();
        } else {
            match s.try_value::<event::Event>() {
                Ok(Some(ev)) => b.event(&ev),
                Ok(None) => {
                    s.fill_more()?;
                    continue;
                }
                Err(ValueError::Json(e)) if e.is_data() => {
                    // Well-formed but of an unexpected shape: skip it.
                    s.value()?;
                    b.bad_event();
                }
                Err(ValueError::Json(e)) => return Err(Failure::Event(at, e.to_string())),
                Err(ValueError::Stream(e)) => return Err(e.into()),
            }
        }
        n += 1;
        if n % PROGRESS_STEP == 0 {
            progress.inc(PROGRESS_STEP);
        }
        if !s.next_or_close(b']', "',' or ']' between events")? {
            return Ok(());
        }
    }
}
