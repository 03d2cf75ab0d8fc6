#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| trace_report_fuzz::report_json(data));
