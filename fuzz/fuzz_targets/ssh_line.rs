//! Fuzz target `ssh_line`: see [`pix_fuzz::harness::ssh_line`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pix_fuzz::harness::ssh_line(data);
});
