#![no_main]
// Raw bytes as an SQLite file: corrupt headers, pages and schemas.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let p = trace_report_fuzz::file("bytes.sqlite", data);
    trace_report_fuzz::nsys_sqlite(&p);
});
