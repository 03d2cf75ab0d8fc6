//! One Chrome-trace event as the PyTorch profiler writes it, deserialized
//! from its own slice of the input: strings are borrowed (copied only when
//! they contain escapes), times are kept as raw number text for exact
//! conversion, and everything the model does not need is skipped unparsed.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON number or numeric string read as an integer; anything else
/// (`"Spans"`, `null`, lists) is absent rather than an error, since fields
/// like `pid` hold both numbers and labels.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub Option<i64>);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Int, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Int, E> {
                Ok(Int(Some(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Int, E> {
                Ok(Int(i64::try_from(v).ok()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Int, E> {
                let ok = v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e18;
                Ok(Int(ok.then_some(v as i64)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Int, E> {
                Ok(Int(v.trim().parse().ok()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_unit<E>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_none<E>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Int, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Int(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Int, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Int(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string field that tolerates other JSON types (read as absent).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text<'a>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_unit<E>(self) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl Text<'_> {
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// The `args` members the model uses.
#[derive(Debug, Default, Deserialize)]
pub struct Args<'a> {
    #[serde(default, rename = "External id")]
    pub external_id: Int,
    /// The same id as 2021-era traces spell it on GPU and runtime events
    /// (a separate field: a serde alias would reject an event with both).
    #[serde(default, rename = "external id")]
    pub external_id_lower: Int,
    #[serde(default)]
    pub correlation: Int,
    #[serde(default)]
    pub device: Int,
    #[serde(default)]
    pub stream: Int,
    #[serde(default)]
    pub bytes: Int,
    /// `record_shapes`: one dimension list per input.
    #[serde(default, borrow, rename = "Input Dims")]
    pub input_dims: Option<&'a RawValue>,
    /// `Input dims`, as 2021-era traces spell it.
    #[serde(default, borrow, rename = "Input dims")]
    pub input_dims_lower: Option<&'a RawValue>,
    /// `record_shapes`: one element type per input.
    #[serde(default, borrow, rename = "Input type")]
    pub input_type: Option<&'a RawValue>,
    /// `record_shapes` (PyTorch 2.x): one stride list per input.
    #[serde(default, borrow, rename = "Input Strides")]
    pub input_strides: Option<&'a RawValue>,
    /// `record_shapes`: the values of scalar and list inputs.
    #[serde(default, borrow, rename = "Concrete Inputs")]
    pub concrete_inputs: Option<&'a RawValue>,
    /// Metadata events: the process or thread name.
    #[serde(default, borrow)]
    pub name: Text<'a>,
}

impl<'a> Args<'a> {
    /// The External id, whichever way the trace spells its key.
    pub fn external(&self) -> Option<i64> {
        self.external_id.0.or(self.external_id_lower.0)
    }

    /// The recorded input shapes, whichever way the trace spells the key.
    pub fn dims(&self) -> Option<&'a RawValue> {
        self.input_dims.or(self.input_dims_lower)
    }
}

/// One trace event.
#[derive(Debug, Default, Deserialize)]
pub struct Event<'a> {
    #[serde(default, borrow)]
    pub ph: Text<'a>,
    #[serde(default, borrow)]
    pub cat: Text<'a>,
    #[serde(default, borrow)]
    pub name: Text<'a>,
    #[serde(default)]
    pub pid: Int,
    #[serde(default)]
    pub tid: Int,
    /// Microseconds, as written.
    #[serde(default, borrow)]
    pub ts: Option<&'a RawValue>,
    /// Microseconds, as written.
    #[serde(default, borrow)]
    pub dur: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub args: Option<Args<'a>>,
}

/// A raw JSON number (or a numeric string) to nanoseconds, exactly.
pub fn raw_us_to_ns(raw: Option<&RawValue>) -> Option<i64> {
    let text = raw?.get().as_bytes();
    let text = text
        .strip_prefix(b"\"")
        .and_then(|t| t.strip_suffix(b"\""))
        .unwrap_or(text);
    crate::input::decimal::to_ns(text, crate::input::decimal::US)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_event_borrows_and_keeps_exact_times() {
        let raw = br#"{"ph": "X", "cat": "kernel", "name": "void k<4>(int)", "pid": 0, "tid": 7,
            "ts": 4603816807839.896, "dur": 175.779,
            "args": {"External id": 25, "device": 0, "stream": 7, "correlation": 1298,
                     "grid": [16, 2, 4], "est. achieved occupancy %": 12}}"#;
        let e: Event = serde_json::from_slice(raw).unwrap();
        assert_eq!(e.cat.as_str(), Some("kernel"));
        assert!(matches!(e.name.0, Some(Cow::Borrowed("void k<4>(int)"))));
        assert_eq!(raw_us_to_ns(e.ts), Some(4_603_816_807_839_896));
        assert_eq!(raw_us_to_ns(e.dur), Some(175_779));
        let a = e.args.unwrap();
        assert_eq!(a.correlation, Int(Some(1298)));
        assert_eq!(a.external_id, Int(Some(25)));
    }

    #[test]
    fn labels_where_numbers_usually_are() {
        let raw = br#"{"ph": "X", "cat": "Trace", "pid": "Spans", "tid": "PyTorch Profiler",
            "name": "PyTorch Profiler (0)", "ts": 1, "dur": 2, "args": {"Op count": 0}}"#;
        let e: Event = serde_json::from_slice(raw).unwrap();
        assert_eq!(e.pid, Int(None));
        assert_eq!(e.tid, Int(None));
        let raw = br#"{"ph": "M", "name": "thread_name", "pid": 1, "tid": -19360192,
            "args": {"name": "thread 2 (python3)"}}"#;
        let e: Event = serde_json::from_slice(raw).unwrap();
        assert_eq!(e.tid, Int(Some(-19360192)));
        assert_eq!(e.args.unwrap().name.as_str(), Some("thread 2 (python3)"));
    }
}
