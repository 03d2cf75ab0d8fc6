//! The rules, one module each. Register a rule with one `pub mod` line and
//! one entry in [`ALL`] (kept in code order).

use super::Rule;

pub mod below_roofline;
pub mod concat_copy;
pub mod depthwise_conv;
pub mod host_postprocessing;
pub mod host_preprocessing;
pub mod int8_slower;
pub mod launch_bound;
pub mod layout_transpose;
pub mod low_alignment;
pub mod no_tensor_cores;
pub mod pageable_memcpy;
pub mod reupload;
pub mod round_trip;
pub mod sync_stall;
mod tensor_core_common;
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
    &no_tensor_cores::NoTensorCores,
    &depthwise_conv::DepthwiseConv,
    &low_alignment::LowAlignment,
    &int8_slower::Int8Slower,
    &below_roofline::BelowRoofline,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{ERROR_SHARE, WARNING_SHARE, host_phase};

    fn pct(x: f64) -> String {
        format!("{}%", (x * 1000.0).round() / 10.0)
    }

    fn kib(b: u64) -> String {
        format!("{} KiB", b / 1024)
    }

    fn us(ns: i64) -> String {
        format!("{} us", ns / 1000)
    }

    /// The documentation `explain` prints states the constants the code
    /// uses, so the two cannot drift apart.
    #[test]
    fn docs_state_the_thresholds() {
        let severity = [pct(WARNING_SHARE), pct(ERROR_SHARE)];
        let cases: [(&str, Vec<String>); 10] = [
            (
                reupload::Reupload::DOC,
                vec![
                    kib(reupload::MIN_BYTES),
                    pct(reupload::MIN_ITERATION_SHARE),
                    pct(reupload::MIN_SHARE),
                ],
            ),
            (
                round_trip::RoundTrip::DOC,
                vec![kib(round_trip::MIN_BYTES), pct(round_trip::MIN_SHARE)],
            ),
            (
                pageable_memcpy::PageableMemcpy::DOC,
                vec![pct(pageable_memcpy::MIN_SHARE), "half".into()],
            ),
            (
                tiny_memcpy::TinyMemcpy::DOC,
                vec![
                    kib(tiny_memcpy::MAX_BYTES),
                    us(tiny_memcpy::RUN_GAP_NS),
                    format!("at least {} tiny copies", tiny_memcpy::MIN_PER_ITERATION),
                    pct(tiny_memcpy::MIN_SHARE),
                ],
            ),
            (
                layout_transpose::LayoutTranspose::DOC,
                vec![pct(layout_transpose::MIN_KERNEL_SHARE)],
            ),
            (
                concat_copy::ConcatCopy::DOC,
                vec![pct(concat_copy::MIN_KERNEL_SHARE)],
            ),
            (
                host_preprocessing::HostPreprocessing::DOC,
                vec![pct(host_phase::MIN_SHARE)],
            ),
            (
                host_postprocessing::HostPostprocessing::DOC,
                vec![pct(host_phase::MIN_SHARE)],
            ),
            (sync_stall::SyncStall::DOC, vec![pct(sync_stall::MIN_SHARE)]),
            (
                launch_bound::LaunchBound::DOC,
                vec![
                    us(launch_bound::MAX_GAP_NS),
                    us(launch_bound::GRAPH_GAP_NS),
                    us(launch_bound::DEFAULT_LAUNCH_NS),
                    format!("at least {} kernels", launch_bound::MIN_KERNELS_PER_ITERATION),
                    pct(launch_bound::MIN_SHARE),
                    "never error".into(),
                    "static shapes".into(),
                ],
            ),
        ];
        for (i, (doc, needles)) in cases.iter().enumerate() {
            let mut all = needles.clone();
            if i != 9 {
                all.extend(severity.iter().cloned());
            }
            all.push(us(crate::findings::facts::MIN_STAKE_NS));
            for n in all {
                assert!(doc.contains(&n), "rule {i}: documentation lacks '{n}'");
            }
        }
        assert_eq!(pct(0.005), "0.5%");
        assert_eq!(pct(0.8), "80%");
    }
}
