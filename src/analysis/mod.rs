//! Pure analyses of a [`Trace`](crate::model::Trace): each takes the model
//! (and the window) and returns serde types for the report.

pub mod attribution;
pub mod category;
pub mod engine;
pub mod host_work;
pub mod intervals;
pub mod iterations;
pub mod job;
pub mod kernels;
pub mod launch_layer;
pub mod links;
pub mod median;
pub mod memcpy;
pub mod phase;
pub mod projection;
pub mod roofline;
pub mod span_list;
pub mod tensor_core;
pub mod verdicts;
pub mod window;
