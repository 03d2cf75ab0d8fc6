//! The base function name of a demangled kernel name, as Nsight Systems
//! records it in `shortName` (Kineto records only the demangled name).
//!
//! A demangled name is `[return type] [scope::]name[<template args>](params)`;
//! the base name drops the parameters, template arguments, scopes and the
//! return type. `(anonymous namespace)` is a scope, not a parameter list.

const ANON: &str = "(anonymous namespace)";

/// The base function name of `demangled`.
///
/// ```
/// use trace_report::input::kineto::short_name::short_name;
/// assert_eq!(short_name("void cutlass::Kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>(cutlass_80_simt_sgemm_256x128_8x4_nn_align1::Params)"), "Kernel2");
/// assert_eq!(short_name("void at::native::(anonymous namespace)::max_pool_forward_nhwc<c10::Half, int>(int, T1 const*)"), "max_pool_forward_nhwc");
/// assert_eq!(short_name("nvjet_sm90_hsh_64x8_64x16_4x2_h_bz_bias_TNT"), "nvjet_sm90_hsh_64x8_64x16_4x2_h_bz_bias_TNT");
/// assert_eq!(short_name("void (anonymous namespace)::softmax_warp_forward<float, float, float, 10, false, false>(float*, float const*, int, int, int, bool const*, int, bool)"), "softmax_warp_forward");
/// ```
pub fn short_name(demangled: &str) -> &str {
    let s = demangled.trim();
    let bytes = s.as_bytes();
    // The parameter list: the first `(` outside template arguments that
    // is not `(anonymous namespace)`.
    let mut depth = 0i32;
    let mut cut = s.len();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' if s[i..].starts_with(ANON) => {
                i += ANON.len();
                continue;
            }
            b'<' => depth += 1,
            b'>' => depth -= 1,
            b'(' if depth <= 0 => {
                cut = i;
                break;
            }
            _ => {}
        }
        i += 1;
    }
    let head = &s[..cut];
    // Drop a trailing template argument list.
    let head = strip_template(head);
    // The last scope component, then the last word (drops the return type).
    let name = last_scope(head);
    let name = name.rsplit(' ').next().unwrap_or(name);
    if name.is_empty() { s } else { name }
}

/// `head` without a trailing `<...>` (balanced).
fn strip_template(head: &str) -> &str {
    let head = head.trim_end();
    if !head.ends_with('>') {
        return head;
    }
    let mut depth = 0i32;
    for (i, b) in head.bytes().enumerate().rev() {
        match b {
            b'>' => depth += 1,
            b'<' => {
                depth -= 1;
                if depth == 0 {
                    return head[..i].trim_end();
                }
            }
            _ => {}
        }
    }
    head
}

/// The part after the last `::` outside template arguments.
fn last_scope(head: &str) -> &str {
    let bytes = head.as_bytes();
    let mut depth = 0i32;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => depth += 1,
            b'>' => depth -= 1,
            b':' if depth <= 0 && bytes.get(i + 1) == Some(&b':') => {
                start = i + 2;
                i += 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    &head[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nsys_style_short_names() {
        for (full, short) in [
            (
                "void at::native::vectorized_elementwise_kernel<(int)8, at::native::float16_copy_kernel_cuda(at::TensorIteratorBase &)::[lambda(float) (instance 1)], std::array<char *, (unsigned long)2>>(int, T2, T3)",
                "vectorized_elementwise_kernel",
            ),
            (
                "void cutlass__5x_cudnn::Kernel<cutlass_tensorop_f16_s16816fprop_optimized_f16_256x64_32x4_nhwc_align8>(T1::Params)",
                "Kernel",
            ),
            (
                "void nhwcAddPaddingKernel<__half, __half, float, true, (cudnnKernelDataType_t)0>(int, int)",
                "nhwcAddPaddingKernel",
            ),
            (
                "sm80_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc",
                "sm80_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc",
            ),
            ("kernel_name", "kernel_name"),
            ("void foo::bar()", "bar"),
            ("", ""),
        ] {
            assert_eq!(short_name(full), short, "{full}");
        }
    }
}
