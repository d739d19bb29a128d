//! Fuzz target `report`: see [`pix_fuzz::harness::report`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pix_fuzz::harness::report(data);
});
