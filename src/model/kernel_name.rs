//! One identity for a kernel whatever tool spelled its name.
//!
//! Nsight Systems and the PyTorch profiler (cxxabi's demangler) print the
//! same C++ symbol differently:
//!
//! ```text
//! nsys:   void at::native::<unnamed>::vectorized_layer_norm_kernel<c10::Half, float, (bool)0>(int, T2, const T1 *, ...)
//! Kineto: void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::Half, float, false>(int, float, c10::Half const*, ...)
//! both:   at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::Half,float,false>
//! ```
//!
//! The canonical identity keeps what names the instantiation (scopes, the
//! function, its template arguments) in cxxabi's spelling, and drops what
//! the tools disagree on: the return type, the parameter lists (nsys writes
//! template parameters `T2`, cxxabi the types), and spacing. nsys's
//! `(int)8`, `(bool)1`, `(unsigned long)3`, `<unnamed>` and
//! `[lambda(float) (instance 1)]` become `8`, `true`, `3ul`,
//! `(anonymous namespace)` and `{lambda(float)#1}`. Names that are not C++
//! signatures (`nvjet_sm90_...`, Triton kernels) are their own identity.
//! It is an identity, not a display name: reports show the original.

const ANON: &str = "(anonymous namespace)";

/// The canonical identity of a kernel name (see the module doc).
///
/// ```
/// use trace_report::model::kernel_name::canonical;
/// let nsys = "void at::native::vectorized_elementwise_kernel<(int)8, at::native::CUDAFunctor_add<c10::Half>, std::array<char *, (unsigned long)3>>(int, T2, T3)";
/// let kineto = "void at::native::vectorized_elementwise_kernel<8, at::native::CUDAFunctor_add<c10::Half>, std::array<char*, 3ul> >(int, at::native::CUDAFunctor_add<c10::Half>, std::array<char*, 3ul>)";
/// assert_eq!(canonical(nsys), canonical(kineto));
/// assert_eq!(canonical(nsys), "at::native::vectorized_elementwise_kernel<8,at::native::CUDAFunctor_add<c10::Half>,std::array<char*,3ul>>");
/// assert_eq!(canonical("nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT"), "nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT");
/// ```
pub fn canonical(name: &str) -> String {
    let s = name.trim();
    if !s.contains(['<', '(', ' ', ':']) {
        return s.to_string();
    }
    let s = s.replace("<unnamed>", ANON);
    let s = nsys_lambdas(&s);
    let s = integer_casts(&s);
    let s = drop_return_type(&s);
    let s = drop_parameter_lists(&s);
    tidy_spaces(&s)
}

/// Whether `name` is an Itanium-mangled C++ symbol (`_Z...`).
pub fn is_mangled(name: &str) -> bool {
    name.starts_with("_Z") || name.starts_with("__Z")
}

/// The demangled form of an Itanium-mangled name (`_ZN5aiter...`), as
/// cxxabi prints it; None when `name` is not mangled or does not parse.
/// Kineto writes kernels mangled when its own demangling failed (ROCm
/// kernels such as Composable Kernel's, CUTLASS kernels built by cuDNN).
///
/// ```
/// use trace_report::model::kernel_name::demangle;
/// assert_eq!(demangle("_Z3addIfEvPT_S1_i").as_deref(), Some("void add<float>(float*, float*, int)"));
/// assert_eq!(demangle("triton_poi_fused_0"), None);
/// // What the demangler cannot read whole keeps its scopes and name.
/// let sgl = "_ZN7sgl_hip10activation18act_and_mul_kernelI14__hip_bfloat16TnPFT_RKS3_EXadL_Z4siluIS2_ES3_S5_EEEEvPS3_PS4_i";
/// assert_eq!(demangle(sgl).as_deref(), Some("sgl_hip::activation::act_and_mul_kernel<…>"));
/// ```
pub fn demangle(name: &str) -> Option<String> {
    if !is_mangled(name) {
        return None;
    }
    let full = cpp_demangle::Symbol::new(name.trim())
        .ok()
        .and_then(|s| {
            s.demangle_with_options(&cpp_demangle::DemangleOptions::default())
                .ok()
        })
        .filter(|d| !d.is_empty());
    full.or_else(|| nested_name(name.trim()))
}

/// The scopes and name of a mangled symbol the demangler could not read
/// whole (newer C++ such as constrained template parameters):
/// `_ZN7sgl_hip10activation18act_and_mul_kernelI...` ->
/// `sgl_hip::activation::act_and_mul_kernel<…>`, the `<…>` saying that
/// template arguments were left out.
fn nested_name(name: &str) -> Option<String> {
    let rest = name.trim_start_matches('_').strip_prefix('Z')?;
    let mut rest = rest.strip_prefix('N').unwrap_or(rest);
    let mut parts: Vec<&str> = Vec::new();
    loop {
        rest = rest.trim_start_matches(['K', 'V', 'L']);
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            break;
        }
        let n: usize = rest[..digits].parse().ok()?;
        let ident = rest.get(digits..digits + n)?;
        parts.push(ident);
        rest = &rest[digits + n..];
    }
    if parts.is_empty() {
        return None;
    }
    let mut out = parts.join("::");
    if rest.starts_with('I') {
        out.push_str("<…>");
    }
    Some(out)
}

/// `[lambda(float) (instance 1)]` (nsys) -> `{lambda(float)#1}` (cxxabi).
fn nsys_lambdas(s: &str) -> String {
    const OPEN: &str = "[lambda(";
    if !s.contains(OPEN) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        // The lambda's parameter list, balanced.
        let Some(close) = balanced_end(after, "lambda".len()) else {
            out.push_str(&rest[i..]);
            return out;
        };
        let sig = &after[..=close];
        let tail = &after[close + 1..];
        let inst = tail
            .strip_prefix(" (instance ")
            .and_then(|t| t.split_once(")]"))
            .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
        match inst {
            Some((n, t)) => {
                out.push('{');
                out.push_str(sig);
                out.push('#');
                out.push_str(n);
                out.push('}');
                rest = t;
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Index of the `)` closing the `(` at byte `open` of `s`.
fn balanced_end(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, b) in s.bytes().enumerate().skip(open) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// nsys's casts of integer template arguments to cxxabi's literals.
fn integer_casts(s: &str) -> String {
    const CASTS: &[(&str, &str)] = &[
        ("(unsigned long long)", "ull"),
        ("(long long)", "ll"),
        ("(unsigned long)", "ul"),
        ("(long)", "l"),
        ("(unsigned int)", "u"),
        ("(int)", ""),
    ];
    if !s.contains(")") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let b = s.as_bytes();
    'outer: while i < b.len() {
        if b[i] == b'(' {
            let rest = &s[i..];
            if let Some(v) = rest.strip_prefix("(bool)") {
                if v.starts_with('0') && !v[1..].starts_with(|c: char| c.is_ascii_digit()) {
                    out.push_str("false");
                    i += "(bool)0".len();
                    continue;
                }
                if v.starts_with('1') && !v[1..].starts_with(|c: char| c.is_ascii_digit()) {
                    out.push_str("true");
                    i += "(bool)1".len();
                    continue;
                }
            }
            for (cast, suffix) in CASTS {
                if let Some(v) = rest.strip_prefix(cast) {
                    let neg = usize::from(v.starts_with('-'));
                    let digits = v[neg..].bytes().take_while(u8::is_ascii_digit).count();
                    if digits > 0 {
                        out.push_str(&v[..neg + digits]);
                        out.push_str(suffix);
                        i += cast.len() + neg + digits;
                        continue 'outer;
                    }
                }
            }
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Depth of `<>` and `()` nesting before each byte is tracked; returns the
/// byte index of the first top-level parameter list's `(`, skipping
/// `(anonymous namespace)`.
fn first_params(s: &str) -> usize {
    let b = s.as_bytes();
    let (mut angle, mut paren) = (0i32, 0i32);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' if s[i..].starts_with(ANON) => {
                i += ANON.len();
                continue;
            }
            b'<' => angle += 1,
            b'>' => angle -= 1,
            b'(' if angle <= 0 && paren == 0 => return i,
            b'(' => paren += 1,
            b')' => paren -= 1,
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// The signature without a leading return type: everything up to the last
/// top-level space before the parameter list (`void `, `std::enable_if<
/// ..., void>::type `), and `void ` before a function template argument.
fn drop_return_type(s: &str) -> String {
    let head_end = first_params(s);
    let b = s.as_bytes();
    let (mut angle, mut paren) = (0i32, 0i32);
    let mut cut = None;
    let mut i = 0;
    while i < head_end {
        match b[i] {
            b'(' if s[i..].starts_with(ANON) => {
                i += ANON.len();
                continue;
            }
            b'<' => angle += 1,
            b'>' => angle -= 1,
            b'(' => paren += 1,
            b')' => paren -= 1,
            b' ' if angle <= 0 && paren <= 0 => cut = Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    let s = match cut {
        Some(c) if c < head_end => &s[c..],
        _ => s,
    };
    // `void f<...>(...)::{lambda}` as a template argument (nsys only).
    s.replace("<void ", "<").replace(", void ", ", ")
}

/// Every parameter list removed: a `(...)` right after a name, `>`, `)`,
/// `]` or `}` (a call position), but not `(anonymous namespace)` nor a cast
/// such as `(cudnnKernelDataType_t)0` (after `<` or `,`).
fn drop_parameter_lists(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'(' && !s[i..].starts_with(ANON) {
            let prev = out.trim_end().bytes().last();
            let call = prev
                .is_some_and(|p| p.is_ascii_alphanumeric() || matches!(p, b'_' | b'>' | b')' | b']' | b'}'));
            if call {
                if let Some(end) = balanced_end(s, i) {
                    i = end + 1;
                    continue;
                }
            }
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Spaces only between two words (`unsigned long`, `anonymous namespace`,
/// `operator const`), one each; none next to punctuation.
fn tidy_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending = true;
            continue;
        }
        if pending {
            let word = |x: char| x.is_alphanumeric() || x == '_';
            if out.chars().last().is_some_and(word) && word(c) {
                out.push(' ');
            }
            pending = false;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The five kernels the bundled BERT pair (nsys SQLite and Kineto of
    /// one H100 run) spelled differently, verbatim from both files.
    #[test]
    fn bert_pair_spellings_meet() {
        for (nsys, kineto) in [
            (
                "void at::native::<unnamed>::vectorized_layer_norm_kernel<c10::Half, float, (bool)0>(int, T2, const T1 *, const T1 *, const T1 *, T2 *, T2 *, T1 *)",
                "void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::Half, float, false>(int, float, c10::Half const*, c10::Half const*, c10::Half const*, float*, float*, c10::Half*)",
            ),
            (
                "void at::native::elementwise_kernel<(int)128, (int)4, void at::native::gpu_kernel_impl<at::native::direct_copy_kernel_cuda(at::TensorIteratorBase &)::[lambda() (instance 3)]::operator ()() const::[lambda() (instance 7)]::operator ()() const::[lambda(float) (instance 1)]>(at::TensorIteratorBase &, const T1 &)::[lambda(int) (instance 1)]>(int, T3)",
                "void at::native::elementwise_kernel<128, 4, at::native::gpu_kernel_impl<at::native::direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#3}::operator()() const::{lambda()#7}::operator()() const::{lambda(float)#1}>(at::TensorIteratorBase&, at::native::direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#3}::operator()() const::{lambda()#7}::operator()() const::{lambda(float)#1} const&)::{lambda(int)#1}>(int, at::native::gpu_kernel_impl<at::native::direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#3}::operator()() const::{lambda()#7}::operator()() const::{lambda(float)#1}>(at::TensorIteratorBase&, at::native::direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#3}::operator()() const::{lambda()#7}::operator()() const::{lambda(float)#1} const&)::{lambda(int)#1})",
            ),
            (
                "void at::native::vectorized_elementwise_kernel<(int)8, at::native::float16_copy_kernel_cuda(at::TensorIteratorBase &)::[lambda(float) (instance 1)], std::array<char *, (unsigned long)2>>(int, T2, T3)",
                "void at::native::vectorized_elementwise_kernel<8, at::native::float16_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda(float)#1}, std::array<char*, 2ul> >(int, at::native::float16_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda(float)#1}, std::array<char*, 2ul>)",
            ),
            (
                "void at::native::vectorized_gather_kernel<(int)16, long>(char *, char *, T2 *, int, long, long, long, long, bool)",
                "void at::native::vectorized_gather_kernel<16, long>(char*, char*, long*, int, long, long, long, long, bool)",
            ),
        ] {
            assert_eq!(canonical(nsys), canonical(kineto), "\n{nsys}\n{kineto}");
        }
        assert_eq!(
            canonical(
                "void at::native::<unnamed>::vectorized_layer_norm_kernel<c10::Half, float, (bool)0>(int, T2)"
            ),
            "at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::Half,float,false>"
        );
    }

    #[test]
    fn return_types_and_casts() {
        assert_eq!(
            canonical("std::enable_if<!(false), void>::type internal::gemvx::kernel<int, int, float>(T1)"),
            "internal::gemvx::kernel<int,int,float>"
        );
        assert_eq!(
            canonical("void k<(unsigned int)4, (long)-2, (bool)1>(int)"),
            "k<4u,-2l,true>"
        );
        // Enum casts are spelled the same by both tools: kept.
        assert_eq!(
            canonical("void nchwToNhwcKernel<__half, float, true, (cudnnKernelDataType_t)0>(int, int)"),
            "nchwToNhwcKernel<__half,float,true,(cudnnKernelDataType_t)0>"
        );
        assert_eq!(canonical("  triton_poi_fused_add_0  "), "triton_poi_fused_add_0");
    }
}
