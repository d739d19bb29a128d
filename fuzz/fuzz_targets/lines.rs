//! Fuzz target `lines`: see [`pix_fuzz::harness::lines`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pix_fuzz::harness::lines(data);
});
