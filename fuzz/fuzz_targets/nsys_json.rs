#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let p = trace_report_fuzz::file("export.json", data);
    trace_report_fuzz::read_and_exercise(&p, Some(trace_report::input::InputFormat::NsysJson));
});
