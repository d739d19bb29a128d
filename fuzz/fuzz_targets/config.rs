//! Fuzz target `config`: see [`pix_fuzz::harness::config`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pix_fuzz::harness::config(data);
});
