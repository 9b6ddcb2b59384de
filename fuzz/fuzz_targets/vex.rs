#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| charter_audit_fuzz::vex(data));
