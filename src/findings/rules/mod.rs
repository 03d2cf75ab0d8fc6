//! One module per rule.

pub mod depthwise_conv;
pub mod int8_slower;
pub mod low_alignment;
pub mod no_tensor_cores;
mod tensor_core_common;
