//! Synthetic traces for unit tests of rules: a builder that writes the
//! model directly, then the same analysis steps as the pipeline.

use super::{Context, Finding, Rule};
use crate::analysis::attribution;
use crate::analysis::kernels::{self, KernelRow};
use crate::analysis::phase::PhaseRules;
use crate::analysis::window::{self, Window, WindowChoice};
use crate::model::{
    ApiCall, ApiKind, CopyKind, Device, Kernel, MemKind, Memcpy, Ns, Range, RangeKind, Thread, Trace,
};

pub struct Builder {
    pub trace: Trace,
    corr: u32,
}

impl Default for Builder {
    fn default() -> Self {
        let mut trace = Trace::default();
        trace.threads.push(Thread {
            pid: 7,
            tid: 70,
            name: None,
        });
        trace.devices.push(Device {
            id: 0,
            name: "test GPU".into(),
            compute_capability: None,
            sm_count: None,
        });
        Builder { trace, corr: 0 }
    }
}

impl Builder {
    /// A push/pop range on the one thread.
    pub fn range(&mut self, name: &str, s: Ns, e: Ns) -> &mut Self {
        let name = self.trace.names.intern(name);
        self.trace.ranges.push(Range {
            start: s,
            end: e,
            name,
            thread: 0,
            kind: RangeKind::PushPop,
            domain: 0,
        });
        self
    }

    /// An API call; returns its correlation id.
    pub fn api(&mut self, name: &str, s: Ns, e: Ns) -> u32 {
        self.corr += 1;
        let id = self.trace.names.intern(name);
        self.trace.api_calls.push(ApiCall {
            start: s,
            end: e,
            name: id,
            thread: 0,
            correlation: self.corr,
            kind: ApiKind::classify(name),
        });
        self.corr
    }

    /// A kernel launched by a 1 us `cudaLaunchKernel` ending where the
    /// kernel starts.
    pub fn kernel(&mut self, name: &str, s: Ns, e: Ns) -> &mut Self {
        self.kernel_at(name, (s - 1_000, s), s, e)
    }

    /// A kernel running over `[s, e)`, launched by a call spanning `call`.
    pub fn kernel_at(&mut self, name: &str, call: (Ns, Ns), s: Ns, e: Ns) -> &mut Self {
        let correlation = self.api("cudaLaunchKernel", call.0, call.1);
        let id = self.trace.names.intern(name);
        self.trace.kernels.push(Kernel {
            start: s,
            end: e,
            name: id,
            short_name: id,
            device: 0,
            stream: 7,
            pid: 7,
            correlation,
        });
        self
    }

    /// A copy issued by a `cudaMemcpyAsync` call spanning `call`, running
    /// on the GPU over `run`.
    pub fn copy(
        &mut self,
        kind: CopyKind,
        host: MemKind,
        bytes: u64,
        call: (Ns, Ns),
        run: (Ns, Ns),
    ) -> &mut Self {
        let correlation = self.api("cudaMemcpyAsync", call.0, call.1);
        let (src, dst) = match kind {
            CopyKind::DtoH => (MemKind::Device, host),
            _ => (host, MemKind::Device),
        };
        self.trace.memcpys.push(Memcpy {
            start: run.0,
            end: run.1,
            bytes,
            device: 0,
            stream: 7,
            pid: 7,
            correlation,
            kind,
            src,
            dst,
        });
        self
    }

    /// A copy like [`Builder::copy`] issued from host thread `t` (created
    /// on first use; thread 0 is the ranges' thread) on stream `8 + t`.
    pub fn copy_on_thread(
        &mut self,
        t: u32,
        kind: CopyKind,
        host: MemKind,
        bytes: u64,
        call: (Ns, Ns),
        run: (Ns, Ns),
    ) -> &mut Self {
        while self.trace.threads.len() <= t as usize {
            let tid = 70 + self.trace.threads.len() as u64;
            self.trace.threads.push(Thread {
                pid: 7,
                tid,
                name: None,
            });
        }
        self.copy(kind, host, bytes, call, run);
        if let Some(a) = self.trace.api_calls.last_mut() {
            a.thread = t;
        }
        if let Some(m) = self.trace.memcpys.last_mut() {
            m.stream = 8 + t;
        }
        self
    }

    pub fn build(mut self) -> Analysis {
        self.trace.sort();
        let window = window::choose(&self.trace, &WindowChoice::Auto).expect("window");
        let attribution = attribution::attribute(&self.trace, &window, &PhaseRules::default());
        let kernels = kernels::summarize(&self.trace, &window);
        Analysis {
            trace: self.trace,
            window,
            attribution,
            kernels,
        }
    }
}

/// An analysed synthetic trace.
pub struct Analysis {
    pub trace: Trace,
    pub window: Window,
    pub attribution: attribution::Result,
    pub kernels: Vec<KernelRow>,
}

impl Analysis {
    pub fn cx(&self) -> Context<'_> {
        Context {
            trace: &self.trace,
            window: &self.window,
            attribution: &self.attribution,
            kernels: &self.kernels,
        }
    }

    pub fn check(&self, rule: &dyn Rule) -> Vec<Finding> {
        rule.check(&self.cx())
    }

    pub fn window_ns(&self) -> Ns {
        self.window.duration()
    }
}
