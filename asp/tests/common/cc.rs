//! Builds the tests' small C programs against libusbredirparser, once per test binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Compiles `tests/usbredir/<source>` with the system `cc` against `pkg-config
/// libusbredirparser-0.5` into the test target directory as `<exe>`; panics, naming
/// scripts/setup.sh, when the library or the compiler is missing.
pub fn build_usbredir_program(source: &str, exe: &str) -> PathBuf {
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "libusbredirparser-0.5"])
        .output()
        .expect("pkg-config runs (scripts/setup.sh installs it)");
    assert!(
        flags.status.success(),
        "libusbredirparser-0.5 not found by pkg-config: run scripts/setup.sh (Debian: libusbredirparser-dev)\n{}",
        String::from_utf8_lossy(&flags.stderr)
    );
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/usbredir").join(source);
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join(exe);
    let out = Command::new("cc")
        .args(["-O1", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(&source)
        .args(String::from_utf8_lossy(&flags.stdout).split_whitespace())
        .output()
        .expect("cc runs");
    assert!(out.status.success(), "building {} failed:\n{}", source.display(), String::from_utf8_lossy(&out.stderr));
    exe
}
