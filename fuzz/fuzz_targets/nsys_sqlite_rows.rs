#![no_main]
// A real (small) nsys export changed row by row and column by column:
// NULLs, wrong types, reversed or huge times, dropped columns and tables.
libfuzzer_sys::fuzz_target!(|ops: Vec<trace_report_fuzz::Op>| {
    let p = trace_report_fuzz::mutated_export(&ops);
    trace_report_fuzz::nsys_sqlite(&p);
});
