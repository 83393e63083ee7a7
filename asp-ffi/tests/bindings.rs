//! The bindings end to end, each against servers on loopback: the C example (linked statically
//! and dynamically), the Python package under pytest, the Kotlin tests, and the Swift check.
//! Each starts a server through its own binding, connects, receives frames, sends input and
//! reads figures; the first frame's size and checksum must match what a plain Rust client saw
//! of the same synthetic frame (same scene, size and seed).
//!
//! They need the tools `scripts/install-bindings-deps.sh` installs (pytest, kotlinc, JNA) and
//! fail, naming it, when one is missing.
#![allow(clippy::disallowed_methods)] // bounded waits on the wall clock

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use asp::sink::DecodedFrame;
use asp_ffi::checksum::frame_checksum;
use asp_ffi::client::{CarrierChoice, ClientConfig, ClientCore};
use asp_ffi::server::{ServerConfig, ServerCore};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
const FPS: u32 = 30;
const SEED: u64 = 7;
/// Longest a binding's test may run before it is killed and fails.
const TOOL_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest the build of the shared and static libraries may take (a fresh checkout on two
/// cores).
const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FirstFrame {
    id: u64,
    width: u32,
    height: u32,
    checksum: u64,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// Where cargo puts `libasp_ffi.{so,a}` for this build (the test binary is in `deps/` below
/// it). `cargo test` builds the library only as an rlib, so the first call builds the shared
/// and static libraries (and `uniffi-bindgen`) with `cargo build`, in the same profile and
/// target folder: the bindings always load the code under test, never a stale build.
fn lib_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test binary path");
            let dir = exe.parent().and_then(Path::parent).expect("target profile dir").to_path_buf();
            let profile = match dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") | None => "dev".to_owned(),
                Some(other) => other.to_owned(),
            };
            let target = dir.parent().expect("target dir");
            run_for(
                Command::new(env!("CARGO"))
                    .current_dir(repo_root())
                    .args(["build", "--quiet", "-p", "asp-ffi", "--profile", &profile, "--target-dir"])
                    .arg(target),
                "cargo build -p asp-ffi",
                BUILD_TIMEOUT,
            );
            dir
        })
        .clone()
}

fn server_config() -> ServerConfig {
    ServerConfig { width: WIDTH, height: HEIGHT, fps: FPS, seed: Some(SEED), ..ServerConfig::default() }
}

/// What a Rust client (the facade's `ClientSession`, through a Rust closure) sees first.
fn rust_reference() -> FirstFrame {
    static REFERENCE: OnceLock<FirstFrame> = OnceLock::new();
    *REFERENCE.get_or_init(|| {
        let server = ServerCore::start(&server_config()).expect("server starts");
        let first = Arc::new(Mutex::new(None));
        let seen = first.clone();
        let sink = move |frame: &DecodedFrame| {
            let mut seen = seen.lock().unwrap();
            if seen.is_none() {
                *seen = Some(FirstFrame {
                    id: frame.header.frame_id,
                    width: frame.image.width,
                    height: frame.image.height,
                    checksum: frame_checksum(&frame.image),
                });
            }
        };
        let config = ClientConfig {
            address: format!("127.0.0.1:{}", server.port()),
            fingerprint: server.fingerprint().into(),
            token: server.issue_token("rust-reference", Duration::from_secs(600)).expect("token"),
            carrier: CarrierChoice::Quic,
            decode_queue: 16,
        };
        let client = ClientCore::connect(&config, Box::new(sink), None).expect("client connects");
        let deadline = Instant::now() + Duration::from_secs(20);
        while first.lock().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        client.stop().expect("stop");
        server.stop().expect("stop");
        let reference = first.lock().unwrap().expect("the Rust client received a frame");
        assert_eq!((reference.width, reference.height), (WIDTH, HEIGHT));
        reference
    })
}

/// Sets the shared test configuration and the expected first frame on `cmd`.
fn with_test_env(cmd: &mut Command) -> &mut Command {
    let reference = rust_reference();
    cmd.env("ASP_TEST_WIDTH", WIDTH.to_string())
        .env("ASP_TEST_HEIGHT", HEIGHT.to_string())
        .env("ASP_TEST_FPS", FPS.to_string())
        .env("ASP_TEST_SEED", SEED.to_string())
        .env("ASP_EXPECT_FRAME_ID", reference.id.to_string())
        .env("ASP_EXPECT_CHECKSUM", format!("{:016x}", reference.checksum))
}

/// Runs `cmd` to its end (killed after [`TOOL_TIMEOUT`]); returns stdout, failing with both
/// streams when it fails.
fn run(cmd: &mut Command, what: &str) -> String {
    run_for(cmd, what, TOOL_TIMEOUT)
}

/// [`run`] with its own time limit.
fn run_for(cmd: &mut Command, what: &str, limit: Duration) -> String {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start {:?}: {e}", cmd.get_program()));
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(output.status.success(), "{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}", output.status);
    stdout
}

/// A tool the bindings' tests need, or a failure naming the installer.
fn tool(path: &Path) -> PathBuf {
    assert!(path.exists(), "{} is missing: run scripts/install-bindings-deps.sh", path.display());
    path.to_path_buf()
}

/// Writes the uniffi sources for `language` into `out`.
fn generate(language: &str, out: &Path) {
    run(
        Command::new(env!("CARGO_BIN_EXE_uniffi-bindgen"))
            .current_dir(repo_root())
            .args(["generate", "--no-format", "--library"])
            .arg(lib_dir().join("libasp_ffi.so"))
            .args(["--language", language, "--out-dir"])
            .arg(out),
        &format!("uniffi-bindgen {language}"),
    );
}

fn scratch(name: &str) -> PathBuf {
    let dir = lib_dir().join("bindings-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The `first_frame id=.. width=.. height=.. checksum=..` line a binding's test prints.
fn parse_first_frame(stdout: &str, what: &str) -> FirstFrame {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("first_frame "))
        .unwrap_or_else(|| panic!("{what} printed no first_frame line:\n{stdout}"));
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .unwrap_or_else(|| panic!("{what}: no {name} in {line:?}"))
    };
    FirstFrame {
        id: field("id").parse().expect("id"),
        width: field("width").parse().expect("width"),
        height: field("height").parse().expect("height"),
        checksum: u64::from_str_radix(field("checksum"), 16).expect("checksum"),
    }
}

fn c_example(kind: &str) {
    let out = scratch(&format!("c-{kind}"));
    run(
        Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(repo_root().join("bindings/c"))
            .arg(format!("LIBDIR={}", lib_dir().display()))
            .arg(format!("OUT={}", out.display()))
            .arg(out.join(format!("client-{kind}"))),
        &format!("make client-{kind}"),
    );
    let stdout = run(with_test_env(&mut Command::new(out.join(format!("client-{kind}")))), &format!("client-{kind}"));
    assert!(stdout.contains("event: connected over quic"), "{stdout}");
    assert!(stdout.contains("input events applied by the server: 5"), "{stdout}");
    assert!(stdout.contains("1 shape(s) of 16x24, now at (100, 80)"), "{stdout}");
    assert!(stdout.contains("clipboard copies the server took: 1"), "{stdout}");
    assert_eq!(parse_first_frame(&stdout, "the C example"), rust_reference(), "{stdout}");
}

#[test]
fn c_example_linked_statically() {
    c_example("static");
}

#[test]
fn c_example_linked_dynamically() {
    c_example("shared");
}

#[test]
fn python_package_under_pytest() {
    let python = repo_root().join("bindings/python");
    let out = scratch("python");
    run(Command::new(python.join("build.sh")).arg(lib_dir()).arg(&out), "bindings/python/build.sh");
    let stdout = run(
        with_test_env(Command::new("python3").args(["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]))
            .arg(python.join("tests"))
            .env("PYTHONPATH", &out),
        "pytest",
    );
    assert_eq!(parse_first_frame(&stdout, "the Python test"), rust_reference(), "{stdout}");
    let hello = run(
        Command::new("python3").arg(python.join("examples/hello.py")).env("PYTHONPATH", &out),
        "the README's Python example",
    );
    assert!(hello.contains("bench click-to-photon p50"), "{hello}");
}

#[test]
fn kotlin_tests() {
    let kotlin_home = repo_root().join("target/tools/kotlin/node_modules/kotlin-compiler");
    let runner = tool(&kotlin_home.join("bin/kotlin"));
    let jna = tool(Path::new("/usr/share/java/jna.jar"));
    let coroutines = tool(&kotlin_home.join("lib/kotlinx-coroutines-core-jvm.jar"));
    let out = scratch("kotlin");
    run(
        Command::new(repo_root().join("bindings/kotlin/build.sh"))
            .arg(lib_dir())
            .arg(&out)
            .arg(repo_root().join("bindings/kotlin/src/test/kotlin/AspTest.kt"))
            .arg(repo_root().join("bindings/kotlin/examples/Hello.kt")),
        "bindings/kotlin/build.sh",
    );
    let kotlin = |main: &str| {
        let mut cmd = Command::new(&runner);
        cmd.arg("-cp")
            .arg(format!("{}:{}:{}", out.join("asp.jar").display(), jna.display(), coroutines.display()))
            .arg(format!("-Djna.library.path={}", lib_dir().display()))
            .arg(main);
        cmd
    };
    let stdout = run(with_test_env(&mut kotlin("AspTestKt")), "the Kotlin tests");
    assert!(stdout.contains("5 passed, 0 failed"), "{stdout}");
    assert_eq!(parse_first_frame(&stdout, "the Kotlin test"), rust_reference(), "{stdout}");
    let hello = run(&mut kotlin("HelloKt"), "the README's Kotlin example");
    assert!(hello.contains("glass-to-glass p50"), "{hello}");
}

/// No Swift toolchain here: check that the committed Swift sources are what uniffi makes of
/// the library now, and that their C header compiles.
#[test]
fn swift_sources_fresh_and_header_compiles() {
    let dir = scratch("swift");
    generate("swift", &dir);
    let swift = repo_root().join("bindings/swift");
    let pairs = [
        ("asp.swift", "Sources/Asp/asp.swift"),
        ("aspFFI.h", "Sources/aspFFI/aspFFI.h"),
        ("aspFFI.modulemap", "Sources/aspFFI/module.modulemap"),
    ];
    for (generated, committed) in pairs {
        let new = std::fs::read(dir.join(generated)).unwrap_or_else(|e| panic!("{generated}: {e}"));
        if std::env::var_os("ASP_BLESS").is_some() {
            std::fs::create_dir_all(swift.join(committed).parent().expect("parent")).expect("mkdir");
            std::fs::write(swift.join(committed), &new).expect("write");
            continue;
        }
        let old = std::fs::read(swift.join(committed)).unwrap_or_default();
        assert!(
            old == new,
            "bindings/swift/{committed} is out of date: run `ASP_BLESS=1 cargo test -p asp-ffi --test bindings swift` and commit it"
        );
    }
    let unit = dir.join("include_ffi.c");
    std::fs::write(&unit, "#include \"aspFFI.h\"\n").expect("write");
    run(
        Command::new("clang").args(["-fsyntax-only", "-Wall", "-Werror", "-I"]).arg(&dir).arg(&unit),
        "clang on the Swift FFI header",
    );
    // Every function the Swift side will call is exported by the library.
    let header = std::fs::read_to_string(dir.join("aspFFI.h")).expect("read");
    let exported = run(
        Command::new("nm").args(["-D", "--defined-only"]).arg(lib_dir().join("libasp_ffi.so")),
        "nm on libasp_ffi.so",
    );
    let exported: std::collections::HashSet<&str> =
        exported.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
    let declared: Vec<&str> = header
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("uniffi_asp_ffi_fn_") || w.starts_with("ffi_asp_ffi_"))
        .collect();
    assert!(declared.len() > 40, "only {} functions found in aspFFI.h", declared.len());
    let missing: Vec<_> = declared.iter().filter(|f| !exported.contains(*f)).collect();
    assert!(missing.is_empty(), "declared in aspFFI.h but not exported: {missing:?}");
}

/// The C header compiles as C99 and as C++ with every warning.
#[test]
fn c_header_compiles_as_c_and_cpp() {
    let header = repo_root().join("bindings/c/include/asp.h");
    for (compiler, lang, std) in [("cc", "c", "-std=c99"), ("c++", "c++", "-std=c++17"), ("clang", "c", "-std=c11")] {
        run(
            Command::new(compiler)
                .args(["-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-pedantic", std, "-x", lang])
                .arg(&header),
            &format!("{compiler} {std} on asp.h"),
        );
    }
}
