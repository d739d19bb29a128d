//! Fuzz target `postgres`: see [`pix_fuzz::harness::postgres`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pix_fuzz::harness::postgres(data);
});
