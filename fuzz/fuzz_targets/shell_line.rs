//! Fuzz target `shell_line`: see [`pix_fuzz::harness::shell_line`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pix_fuzz::harness::shell_line(data);
});
