//! Fuzz target `parse_case`: see [`pix_fuzz::harness::parse_case`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pix_fuzz::harness::parse_case(data);
});
