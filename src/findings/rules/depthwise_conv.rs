//! TR402 depthwise-conv.

use super::tensor_core_common as common;
use crate::analysis::tensor_core::names::Verdict;
use crate::analysis::tensor_core::reason::ReasonKind;
use crate::declare_rule;
use crate::findings::facts;
use crate::findings::{Context, Finding};

declare_rule! {
    /// Convolutions that cannot use Tensor Cores because of their shape:
    /// depthwise convolutions (PyTorch `conv_depthwise2d_forward_kernel`,
    /// one input channel per group), grouped convolutions run by direct
    /// kernels (cuDNN `conv2d_grouped_direct_kernel`), and, where an input
    /// records the layer shapes, convolutions with fewer input or output
    /// channels than a Tensor Core kernel needs (the offending dimension is
    /// named). Their matrix products are too thin for Tensor Cores; they are
    /// bound by memory traffic.
    ///
    /// What helps: channels_last (NHWC), which lets cuDNN use its NHWC
    /// depthwise kernels and read the tensor once; fusing the depthwise
    /// convolution with its neighbours (TensorRT, torch.compile); or, for
    /// tiny channel counts, padding channels to a multiple of 8.
    ///
    /// Time at stake is half the kernels' time (memory-bound kernels gain
    /// about 2x from a layout that reads each tensor once). Severity: error
    /// from 25% of the window at stake, warning from 5%, info below.
    pub struct DepthwiseConv {
        name: "depthwise-conv",
        code: "TR402",
        summary: "depthwise, grouped or tiny-channel convolutions that cannot use Tensor Cores",
    }
}

impl DepthwiseConv {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        let rows = common::rows_with_reason(cx, |r, why| {
            r.tensor_core == Verdict::No
                && matches!(
                    why.kind,
                    ReasonKind::Depthwise | ReasonKind::Grouped | ReasonKind::TinyChannels
                )
        });
        if rows.is_empty() {
            return Vec::new();
        }
        let title = format!(
            "depthwise/grouped convolutions on CUDA cores: {} in {} kernel(s), largest {}",
            facts::per_iteration_label(cx, common::time(&rows)),
            rows.len(),
            common::top_name(&rows)
        );
        vec![common::finding(
            self,
            cx,
            &rows,
            title,
            Vec::new(),
            None,
            "Run the model channels_last (NHWC) so cuDNN uses its NHWC depthwise kernels, let TensorRT or torch.compile fuse the depthwise convolution with its neighbours, and pad tiny channel counts to a multiple of 8.",
        )]
    }
}
