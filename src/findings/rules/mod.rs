//! The rules, one module each. Register a rule with one `pub mod` line and
//! one entry in [`ALL`] (kept in code order).

use super::Rule;

pub mod concat_copy;
pub mod host_postprocessing;
pub mod host_preprocessing;
pub mod launch_bound;
pub mod layout_transpose;
pub mod pageable_memcpy;
pub mod reupload;
pub mod round_trip;
pub mod sync_stall;
pub mod tiny_memcpy;

/// Every rule, in code order.
pub static ALL: &[&dyn Rule] = &[
    &reupload::Reupload,
    &round_trip::RoundTrip,
    &pageable_memcpy::PageableMemcpy,
    &tiny_memcpy::TinyMemcpy,
    &layout_transpose::LayoutTranspose,
    &concat_copy::ConcatCopy,
    &host_preprocessing::HostPreprocessing,
    &host_postprocessing::HostPostprocessing,
    &sync_stall::SyncStall,
    &launch_bound::LaunchBound,
];
